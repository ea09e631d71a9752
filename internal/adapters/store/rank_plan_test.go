package store

import (
	"context"
	"strings"
	"testing"

	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// TestRankPlans: on MariaDB, the hot rank's refill walks the first rows of
// ix_scores_rank (no sort of the scores table, however many users have a
// score), and the scores read after a change are primary-key points.
func TestRankPlans(t *testing.T) {
	if !testenv.Production() {
		t.Skip("the plan that matters is MariaDB's (SWIPER_TEST_BACKEND=production)")
	}
	ctx := context.Background()
	st := openMySQL(t)
	if _, err := st.db.ExecContext(ctx, "INSERT INTO scores (user_id, score, swipes) "+
		"SELECT seq, CAST((seq * 7919) % 5000 AS SIGNED) - 1000, 1 + seq % 3 FROM seq_1_to_20000"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, "ANALYZE TABLE scores"); err != nil {
		t.Fatal(err)
	}
	var sc []Score
	plan := explain(t, st, "EXPLAIN "+st.topScores(&sc, 1000).String())
	if len(plan) != 1 || plan[0]["key"] != "ix_scores_rank" || strings.Contains(plan[0]["Extra"], "filesort") {
		t.Fatalf("top scores: plan %v, want a walk of ix_scores_rank", plan)
	}
	plan = explain(t, st, "EXPLAIN "+st.rankedScores(&sc, []int64{5, 17, 4000, 19999}).String())
	if len(plan) != 1 || plan[0]["key"] != "PRIMARY" || plan[0]["type"] != "range" {
		t.Fatalf("ranked scores: plan %v, want a range of the primary key", plan)
	}
	top, err := st.TopScores(ctx, 1000)
	if err != nil || len(top) != 1000 || top[0].Score != 3999 {
		t.Fatalf("top: %d rows, first %+v, %v", len(top), top[:min(1, len(top))], err)
	}
}
