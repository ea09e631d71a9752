package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// TestSwipeBatchLookupPlan: on MariaDB, the lookup of a batch's pairs is a
// range of primary-key points, not a scan of the swipers' histories (the
// (swiper_id, id) index also starts with swiper_id).
func TestSwipeBatchLookupPlan(t *testing.T) {
	if !testenv.Production() {
		t.Skip("the plan that matters is MariaDB's (SWIPER_TEST_BACKEND=production)")
	}
	ctx := context.Background()
	st := openMySQL(t)
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
		ps := make([]Pair, n)
		for i := range ps {
			ps[i] = Pair{From: int64(1 + i%3), To: int64(3000 + 7*i)} // some swiped, some not
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

// TestSwipeBatchFirstStatementPlan: the batch's first statement reads
// its users, pairs and quota rows by primary key and each swiper's latest
// swipe by one dive into ix_swipes_latest, and locks the swipes and quota rows it reads
// (the users in share mode).
func TestSwipeBatchFirstStatementPlan(t *testing.T) {
	if !testenv.Production() {
		t.Skip("the plan and the locks that matter are MariaDB's (SWIPER_TEST_BACKEND=production)")
	}
	ctx := context.Background()
	st := openMySQL(t)
	if _, err := st.db.ExecContext(ctx, "INSERT INTO swipes (swiper_id, swiped_id, action, created_at) "+
		"SELECT 1, seq, 1, NOW() FROM seq_1_to_4000"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, "INSERT INTO daily_quotas (user_id, day, likes) VALUES (1, '2026-12-07', 3), (2, '2026-12-07', 5)"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var ids []int64
	for _, phone := range []string{"+8613811112222", "+8613811113333"} {
		u, _, err := st.Register(ctx, User{Phone: phone, Nickname: "用户", Gender: "male", Birthday: "1990-01-01",
			City: "北京", CreatedAt: now, ActiveAt: now}, Profile{DatingGender: "female", DatingCity: "北京",
			MaxDistance: 50, MinDatingAge: 18, MaxDatingAge: 50})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if _, err := st.db.ExecContext(ctx, "ANALYZE TABLE swipes, daily_quotas, users"); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, 10, 20)
	pairs := []Pair{{From: 1, To: 10}, {From: 1, To: 5000}, {From: 2, To: 20}}
	quotas := []QuotaKey{{User: 1, Day: "2026-12-07"}, {User: 2, Day: "2026-12-07"}, {User: 3, Day: "2026-12-07"}}
	q := string(st.appendBatchLookup(nil, ids, []int64{1, 2}, pairs, quotas))
	byTable := map[string][]string{}
	plan := explain(t, st, "EXPLAIN "+q)
	latest := 0 // parts answered from the index alone at optimization
	for _, row := range plan {
		if row["table"] != "" && !strings.HasPrefix(row["table"], "<") {
			byTable[row["table"]] = append(byTable[row["table"]], row["key"])
		}
		if row["Extra"] == "Select tables optimized away" || row["Extra"] == "No matching min/max row" {
			latest++
		}
	}
	// Each swiper's latest swipe is one dive into ix_swipes_latest (MIN/MAX
	// optimization), not a read of the swiper's history: swiper 1 has
	// 4,000 swipes, swiper 2 none.
	if latest != 2 {
		t.Errorf("%d latest-swipe parts read one index entry, want 2 (plan %v)", latest, plan)
	}
	for table, want := range map[string][]string{"users": {"PRIMARY"}, "swipes": {"PRIMARY"}, "daily_quotas": {"PRIMARY"}} {
		if !slices.Equal(byTable[table], want) {
			t.Errorf("%s read by %q, want %q (plan %v)", table, byTable[table], want, plan)
		}
	}

	// The locks: a transaction that ran the statement holds the swipe (1,
	// 10) and the quota rows, and the rows of the 2 users in share mode (a
	// ban or an account deletion waits for the batch: no swipe of a deleted
	// user commits after its swipes were purged).
	tx, err := st.rc.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var rows []batchLookupRow
	if err := tx.NewRaw(q).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	kinds := map[int]int{}
	for _, r := range rows {
		kinds[r.Kind]++
	}
	if kinds[lookupUser] != 2 || kinds[lookupSwipe] != 1 || kinds[lookupQuota] != 2 {
		t.Fatalf("rows %+v: want 2 users, 1 stored pair and 2 quota rows", rows)
	}
	var locked int
	if err := tx.QueryRowContext(ctx, "SELECT trx_rows_locked FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()").Scan(&locked); err != nil {
		t.Fatal(err)
	}
	if locked != 5 {
		t.Errorf("%d rows locked, want 5: the 2 users (shared), the stored pair and the 2 quota rows", locked)
	}
}

// openMySQL opens and migrates a fresh MariaDB test database.
func openMySQL(t *testing.T) *Store {
	t.Helper()
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
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if st.dialect != config.MySQL {
		t.Fatalf("dialect %s", st.dialect)
	}
	return st
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
