package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/swiper-social/swiper/internal/config"
	"github.com/swiper-social/swiper/internal/testenv"
)

// TestSwipeBatchLookupPlan: on MariaDB, the lookup of a batch's pairs is a
// range of primary-key points, not a scan of the swipers' histories (the
// (swiper_id, id) index also starts with swiper_id).
func TestSwipeBatchLookupPlan(t *testing.T) {
	if !testenv.Production() {
		t.Skip("the plan that matters is MariaDB's (SWIPER_TEST_BACKEND=production)")
	}
	ctx := context.Background()
	cfg, err := config.Load(func(k string) string {
		if k == "SWIPER_DATABASE_URL" {
			return testenv.MySQLDatabase(t)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	dialect, dsn, err := cfg.Database()
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(ctx, dialect, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if st.dialect != config.MySQL {
		t.Fatalf("dialect %s", st.dialect)
	}
	// A history of 3 swipers × 4,000 swipes, so that a scan would show.
	for s := int64(1); s <= 3; s++ {
		if _, err := st.db.ExecContext(ctx, fmt.Sprintf("INSERT INTO swipes (swiper_id, swiped_id, action, created_at) "+
			"SELECT %d, seq, 1, NOW() FROM seq_1_to_4000", s)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.db.ExecContext(ctx, "ANALYZE TABLE swipes"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 8, 256} {
		ps := make([]swipePair, n)
		for i := range ps {
			ps[i] = swipePair{int64(1 + i%3), int64(3000 + 7*i)} // some swiped, some not
		}
		q := string(st.appendPairLookup([]byte("EXPLAIN "), "swiper_id, swiped_id", "swipes", "swiper_id", "swiped_id", ps))
		plan := explain(t, st, q)
		if len(plan) != 1 || plan[0]["key"] != "PRIMARY" || (plan[0]["type"] != "range" && plan[0]["type"] != "const") {
			t.Fatalf("%d pairs: plan %v, want a range of the primary key", n, plan)
		}
		if !strings.Contains(q, "(swiper_id = 1 AND swiped_id = 3000) OR") && n > 1 || !strings.HasSuffix(q, "FOR UPDATE") {
			t.Fatalf("query %.100s", q)
		}
	}
}

// explain returns the rows of an EXPLAIN as column → text.
func explain(t *testing.T, st *Store, q string) []map[string]string {
	t.Helper()
	rows, err := st.db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = vals[i].String
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
