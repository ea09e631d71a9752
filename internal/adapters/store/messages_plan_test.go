package store

import (
	"context"
	"strings"
	"testing"

	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// TestMessagesPlans: on MariaDB, a page of a conversation is one range of
// the messages' primary key read backwards (no sort, however long the
// conversation), and a user's conversations are read from the
// (user, active_at) index of each side of the pair, without sorting the
// matches.
func TestMessagesPlans(t *testing.T) {
	if !testenv.Production() {
		t.Skip("the plan that matters is MariaDB's (SWIPER_TEST_BACKEND=production)")
	}
	ctx := context.Background()
	st := openMySQL(t)
	for _, q := range []string{
		"INSERT INTO users (id, phone, nickname, gender, birthday, city, created_at, active_at) " +
			"SELECT seq, CONCAT('+86138', LPAD(seq, 8, '0')), 'n', 'male', '1990-01-01', 'x', NOW(6), NOW(6) FROM seq_1_to_2000",
		"INSERT INTO matches (user_a, user_b, matched_at) SELECT 1 + seq % 50, 51 + seq, NOW(6) - INTERVAL seq SECOND FROM seq_1_to_1900",
		"INSERT INTO messages (user_a, user_b, sender_id, client_id, text, sent_at) " +
			"SELECT 1 + seq % 3, 2000 - seq % 7, 1, CONCAT('c', seq), 'hello', NOW(6) FROM seq_1_to_30000",
		"ANALYZE TABLE users, matches, messages",
	} {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var ms []Message
	for _, before := range []int64{0, 15000} {
		plan := explain(t, st, "EXPLAIN "+st.messagesPage(&ms, 1, 1996, before, 50).String())
		if len(plan) != 1 || plan[0]["key"] != "PRIMARY" || plan[0]["type"] != "range" && plan[0]["type"] != "ref" ||
			strings.Contains(plan[0]["Extra"], "filesort") {
			t.Fatalf("page before %d: plan %v, want a range of the primary key, no sort", before, plan)
		}
	}
	q := st.db.NewRaw(conversationsSQL(7), conversationsArgs(7, 20, 0)...).String()
	plan := explain(t, st, "EXPLAIN "+q)
	used := map[string]bool{}
	for _, row := range plan {
		used[row["key"]] = true
		if row["table"] == "matches" && strings.Contains(row["Extra"], "filesort") {
			t.Fatalf("conversations sort the matches: %v", plan)
		}
	}
	if !used["ix_matches_a_active"] || !used["ix_matches_b_active"] {
		t.Fatalf("conversations: plan %v, want ix_matches_a_active and ix_matches_b_active", plan)
	}
}
