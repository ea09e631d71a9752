package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// isolation is the level of tx's session (MariaDB and MySQL name the
// variable differently).
func isolation(ctx context.Context, tx bun.Tx) (level string, conn int64, err error) {
	if err := tx.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&conn); err != nil {
		return "", 0, err
	}
	for _, v := range []string{"@@tx_isolation", "@@transaction_isolation"} {
		if err = tx.QueryRowContext(ctx, "SELECT "+v).Scan(&level); err == nil {
			return level, conn, nil
		}
	}
	return "", 0, fmt.Errorf("isolation: %w", err)
}

// The swipe batches' pool is READ COMMITTED from a connection's start, on
// a new connection too (after the old one was killed); the main pool keeps
// the server's REPEATABLE READ.
func TestReadCommittedPool(t *testing.T) {
	if !testenv.Production() {
		t.Skip("MariaDB only (SWIPER_TEST_BACKEND=production); SQLite has one writer at a time")
	}
	ctx := context.Background()
	st := openMySQL(t)
	level := func(run func(context.Context, func(context.Context, bun.Tx) error) error) (string, int64) {
		t.Helper()
		var lv string
		var conn int64
		if err := run(ctx, func(ctx context.Context, tx bun.Tx) (err error) {
			lv, conn, err = isolation(ctx, tx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return lv, conn
	}
	if lv, _ := level(st.inTx); lv != "REPEATABLE-READ" {
		t.Errorf("inTx runs at %s, want the server's REPEATABLE-READ", lv)
	}
	lv, conn := level(st.inReadCommittedTx)
	if lv != "READ-COMMITTED" {
		t.Fatalf("inReadCommittedTx runs at %s", lv)
	}
	st.rc.SetMaxIdleConns(1) // so that the next transaction would take the killed connection
	if _, err := st.db.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", conn)); err != nil {
		t.Fatal(err)
	}
	lv, again := level(st.inReadCommittedTx)
	if again == conn {
		t.Fatalf("connection %d still in use after KILL", conn)
	}
	if lv != "READ-COMMITTED" {
		t.Errorf("on a new connection inReadCommittedTx runs at %s", lv)
	}
}
