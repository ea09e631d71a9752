package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/uptrace/bun"
)

// The rows of the swipe path. The social module records a batch of swipes
// in one SwipeTx: it reads the facts (SwipeTx.Facts, and LockQuotas for
// the quota rows a day's first likes need), decides, writes the accepted
// swipes, the likes on their pairs' rows, the quotas and the scores and
// reads the pair rows back (Record), decides the matches, and inserts them
// (InsertMatches). These functions read and write rows and decide nothing;
// each is one round trip on MySQL (two for LockQuotas) whatever the size
// of the batch.
//
// The transaction runs at READ COMMITTED on MySQL (inReadCommittedTx): its
// locking reads lock the rows they find, not the gaps where absent ones
// would go, which under REPEATABLE READ made concurrent batches inserting
// swipes into each other's locked gaps deadlock all the time. Rows are
// written and locked in primary-key order so that batches take their
// locks in one order; a deadlock (or a Galera certification conflict)
// runs the whole transaction, reads and decisions included, again.

// SwipeTx is the transaction of a batch of swipes (Store.InSwipeTx).
type SwipeTx struct {
	s   *Store
	tx  bun.Tx
	buf []byte
}

// InSwipeTx runs fn in one READ COMMITTED transaction, as a whole again
// after a deadlock, a certification conflict or a swipe that a concurrent
// batch inserted after Facts read it absent: fn must decide from what it
// reads each time.
func (s *Store) InSwipeTx(ctx context.Context, fn func(ctx context.Context, tx model.SwipeTx) error) error {
	err := s.inReadCommittedTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, &SwipeTx{s: s, tx: tx})
	})
	if err != nil {
		return fmt.Errorf("store: swipe batch: %w", classify(err))
	}
	return nil
}

// Facts reads, in one statement (see appendBatchLookup), the facts of a
// batch: its users, its stored pairs (locked), its blocks, its existing
// quota rows (locked) and its swipers' latest swipe times.
func (t *SwipeTx) Facts(ctx context.Context, q SwipeFactsQuery) (SwipeFacts, error) {
	f := SwipeFacts{Users: map[int64]SwipeUser{}, Swiped: map[Pair]bool{}, Blocked: map[Pair]bool{},
		Used: map[QuotaKey]int{}, Latest: map[int64]time.Time{}}
	if len(q.Pairs) == 0 {
		return f, nil
	}
	ids := make([]int64, 0, 2*len(q.Pairs))
	swipers := make([]int64, 0, len(q.Pairs))
	for _, p := range q.Pairs {
		ids = append(ids, p.From, p.To)
		swipers = append(swipers, p.From)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.Sort(swipers)
	swipers = slices.Compact(swipers)
	pairs := slices.Clone(q.Pairs)
	slices.SortFunc(pairs, comparePairs)
	pairs = slices.Compact(pairs)
	quotas := slices.Clone(q.Quotas)
	slices.SortFunc(quotas, compareQuotas)
	quotas = slices.Compact(quotas)

	var rows []batchLookupRow
	t.buf = t.s.appendBatchLookup(t.buf[:0], ids, swipers, pairs, quotas)
	if err := t.tx.NewRaw(string(t.buf)).Scan(ctx, &rows); err != nil {
		return SwipeFacts{}, fmt.Errorf("store: swipe facts: %w", err)
	}
	for _, row := range rows {
		switch row.Kind {
		case lookupUser:
			f.Users[row.A] = SwipeUser{VIPLevel: int(row.B), VIPExpiresAt: row.At}
		case lookupSwipe:
			f.Swiped[Pair{From: row.A, To: row.B}] = true
		case lookupQuota:
			f.Used[QuotaKey{User: row.A, Day: row.Day.String}] = int(row.B)
		case lookupBlock:
			f.Blocked[Pair{From: row.A, To: row.B}] = true
			f.Blocked[Pair{From: row.B, To: row.A}] = true
		case lookupLatest:
			if row.At != nil {
				f.Latest[row.A] = row.At.UTC()
			}
		}
	}
	return f, nil
}

// LockQuotas creates the quota rows keys that are missing (a user's first
// like of a day: Facts cannot lock an absent row) with an upsert that adds
// nothing, which locks them all, then reads their likes used.
func (t *SwipeTx) LockQuotas(ctx context.Context, keys []QuotaKey) (map[QuotaKey]int, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, compareQuotas)
	keys = slices.Compact(keys)
	used := make(map[QuotaKey]int, len(keys))
	if len(keys) == 0 {
		return used, nil
	}
	t.buf = t.s.appendQuotaUpsert(t.buf[:0], keys, nil)
	if _, err := t.tx.ExecContext(ctx, string(t.buf)); err != nil {
		return nil, fmt.Errorf("store: create quota rows: %w", err)
	}
	t.buf = t.s.appendQuotaLookupCols(t.buf[:0], "user_id, day, likes", keys)
	err := scanRows(ctx, t.tx, string(t.buf), func(sc func(...any) error) error {
		var q QuotaKey
		var likes int
		err := sc(&q.User, &q.Day, &likes)
		used[q] = likes
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: lock quota rows: %w", err)
	}
	return used, nil
}

// Record writes what a batch decided and reads back what its matches are
// decided on: it inserts the swipes sws (by swiper), sets each like's
// side of its pair's like_pairs row (an upsert), adds the likes to the
// quota rows and the swipes to the scores (an upsert each), then reads
// the likes' pair rows back locked, with whether each pair is matched or
// blocked, keyed by (A, B), A < B.
//
// On MySQL these statements go to the server as one multi-statement query
// (the pool of inReadCommittedTx allows them), so a batch pays one round
// trip for them instead of five: with a few swipes per batch, round trips
// are most of a swipe's cost. The server runs them in order and stops at
// the first that fails, whose error Query returns. On SQLite they run one
// after the other.
//
// A pair a concurrent batch inserted after Facts read it absent runs the
// transaction again. Both of two crossing likes write their pair's one
// row, which is what decides their match exactly once on any engine: a
// single server makes the second wait for the first's commit, a
// multi-writer cluster (Galera, TiDB) refuses the second commit and the
// batch runs again; either way the later like then reads both sides. A
// block writes the row first too (lockPair), so a block that committed
// before this read is seen, and one after it waits.
func (t *SwipeTx) Record(ctx context.Context, r SwipeRecord) (map[Pair]PairState, error) {
	out := make(map[Pair]PairState, len(r.Likes))
	var stmts []string
	if len(r.Swipes) > 0 {
		stmts = append(stmts, t.s.swipeInsert(r.Swipes))
	}
	keys, flags := likeFlags(r.Likes)
	if len(keys) > 0 {
		stmts = append(stmts, t.s.likeMarks(keys, flags))
	}
	if len(r.Quota) > 0 {
		qs := make([]QuotaKey, 0, len(r.Quota))
		for q := range r.Quota {
			qs = append(qs, q)
		}
		slices.SortFunc(qs, compareQuotas)
		stmts = append(stmts, string(t.s.appendQuotaUpsert(nil, qs, r.Quota)))
	}
	if len(r.Scores) > 0 {
		stmts = append(stmts, t.s.scoreUpsert(r.Scores))
	}
	if len(keys) > 0 {
		stmts = append(stmts, t.s.pairStates(keys))
	}
	if len(stmts) == 0 {
		return out, nil
	}
	read := func(sc func(...any) error) error {
		var k Pair
		var a, b int64
		var st PairState
		err := sc(&k.From, &k.To, &a, &b, &st.Matched, &st.Blocked)
		st.ALikes, st.BLikes = a > 0, b > 0
		out[k] = st
		return err
	}
	if len(keys) == 0 {
		read = nil
	}
	if err := t.send(ctx, stmts, read); err != nil {
		if isDuplicate(err) { // only the INSERT of swipes can collide
			return nil, errors.Join(errRaced, err)
		}
		return nil, fmt.Errorf("store: record swipes: %w", err)
	}
	return out, nil
}

// send runs stmts in order and calls read for each row of the last one
// when read is set (a SELECT): as one multi-statement round trip on MySQL,
// one statement after the other on SQLite.
func (t *SwipeTx) send(ctx context.Context, stmts []string, read func(scan func(...any) error) error) error {
	if t.s.multiStatements() {
		stmts = []string{strings.Join(stmts, ";\n")}
	}
	last := len(stmts) - 1
	for _, q := range stmts[:last] {
		if _, err := t.tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if read == nil {
		_, err := t.tx.ExecContext(ctx, stmts[last])
		return err
	}
	// A multi-statement Query returns the rows of its first statement
	// with rows (the SELECT), or the error of the first that failed.
	return scanRows(ctx, t.tx, stmts[last], read)
}

// InsertMatches creates the matches ms (one INSERT that skips an existing
// one).
func (t *SwipeTx) InsertMatches(ctx context.Context, ms []NewMatch) error {
	if len(ms) == 0 {
		return nil
	}
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(x, y NewMatch) int { return cmp.Or(cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B)) })
	d := t.s.db.Dialect()
	t.buf = append(append(t.buf[:0], t.s.insertIgnore()...), "matches (user_a, user_b, matched_at) VALUES "...)
	for k, m := range ms {
		if k > 0 {
			t.buf = append(t.buf, ',')
		}
		t.buf = appendInts(append(t.buf, '('), m.A, m.B)
		t.buf = append(d.AppendTime(append(t.buf, ','), m.At), ')')
	}
	if _, err := t.tx.ExecContext(ctx, string(t.buf)); err != nil {
		return fmt.Errorf("store: insert matches: %w", err)
	}
	return nil
}

// swipeInsert is the INSERT of sws, by swiper (stable: one swiper's swipes
// in the order given).
func (s *Store) swipeInsert(sws []Swipe) string {
	d := s.db.Dialect()
	sws = slices.Clone(sws)
	slices.SortStableFunc(sws, func(a, b Swipe) int { return cmp.Compare(a.SwiperID, b.SwiperID) })
	buf := make([]byte, 0, 80+48*len(sws))
	buf = append(buf, "INSERT INTO swipes (swiper_id, swiped_id, action, created_at) VALUES "...)
	for k, w := range sws {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = appendInts(append(buf, '('), w.SwiperID, w.SwipedID, int64(w.Action))
		buf = append(d.AppendTime(append(buf, ','), w.CreatedAt), ')')
	}
	return string(buf)
}

// likeFlag is which sides of a pair's row a batch's likes set.
type likeFlag struct{ a, b int64 }

// likeFlags groups likes by their pair's row (A, B), A < B, in primary-key
// order, with the sides they set.
func likeFlags(likes []Pair) ([]Pair, map[Pair]likeFlag) {
	rows := make(map[Pair]likeFlag, len(likes))
	for _, l := range likes {
		k := pairOf(l)
		f := rows[k]
		if l.From == k.From {
			f.a = 1
		} else {
			f.b = 1
		}
		rows[k] = f
	}
	keys := make([]Pair, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, comparePairs)
	return keys, rows
}

// likeMarks is the upsert that sets the sides flags of the like_pairs rows
// keys (and counts the likes).
func (s *Store) likeMarks(keys []Pair, flags map[Pair]likeFlag) string {
	buf := make([]byte, 0, 160+40*len(keys))
	buf = append(buf, "INSERT INTO like_pairs (user_a, user_b, likes, a_likes, b_likes) VALUES "...)
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		f := flags[k]
		buf = append(appendInts(append(buf, '('), k.From, k.To, f.a+f.b, f.a, f.b), ')')
	}
	return string(append(buf, s.upsertAdd([]string{"user_a", "user_b"}, "likes", "a_likes", "b_likes")...))
}

// scoreUpsert is the upsert that adds adds to the scores, by user.
func (s *Store) scoreUpsert(adds []ScoreAdd) string {
	adds = slices.Clone(adds)
	slices.SortFunc(adds, func(a, b ScoreAdd) int { return cmp.Compare(a.User, b.User) })
	buf := make([]byte, 0, 120+32*len(adds))
	buf = append(buf, "INSERT INTO scores (user_id, score, swipes) VALUES "...)
	for i, sc := range adds {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(appendInts(append(buf, '('), sc.User, sc.Delta, sc.Swipes), ')')
	}
	return string(append(buf, s.upsertAdd([]string{"user_id"}, "score", "swipes")...))
}

// pairStates is the locking read of the like_pairs rows keys with whether
// each pair is matched or blocked: LEFT JOINs read the pair row first (and
// wait for its lock), then the match and the blocks by primary key, as
// locking reads: the latest committed rows.
func (s *Store) pairStates(keys []Pair) string {
	buf := make([]byte, 0, 420+48*len(keys))
	buf = append(buf, "SELECT p.user_a, p.user_b, p.a_likes, p.b_likes, m.user_a IS NOT NULL, "+
		"(b1.blocker_id IS NOT NULL OR b2.blocker_id IS NOT NULL) FROM like_pairs AS p"...)
	buf = append(buf, s.byPrimaryKey()...)
	buf = append(buf, " LEFT JOIN matches AS m ON m.user_a = p.user_a AND m.user_b = p.user_b"+
		" LEFT JOIN blocks AS b1 ON b1.blocker_id = p.user_a AND b1.blocked_id = p.user_b"+
		" LEFT JOIN blocks AS b2 ON b2.blocker_id = p.user_b AND b2.blocked_id = p.user_a WHERE "...)
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, " OR "...)
		}
		buf = strconv.AppendInt(append(buf, "(p.user_a = "...), k.From, 10)
		buf = append(strconv.AppendInt(append(buf, " AND p.user_b = "...), k.To, 10), ')')
	}
	return string(append(buf, s.forUpdateSQL()...))
}

// scanRows runs a query and calls row for each row with its Scan.
func scanRows(ctx context.Context, tx bun.Tx, query string, row func(scan func(...any) error) error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// batchLookupRow is a row of appendBatchLookup's statement.
type batchLookupRow struct {
	Kind int            `bun:"k"`
	A    int64          `bun:"a"`   // users.id, swipes.swiper_id, daily_quotas.user_id, blocks.blocker_id
	B    int64          `bun:"b"`   // users.vip_level, swipes.swiped_id, daily_quotas.likes, blocks.blocked_id
	Day  sql.NullString `bun:"day"` // daily_quotas.day
	At   *time.Time     `bun:"at"`  // users.vip_expires_at, the swiper's latest swipes.created_at
}

// The kinds of batchLookupRow.
const (
	lookupUser = iota
	lookupSwipe
	lookupQuota
	lookupBlock
	lookupLatest
)

// appendBatchLookup appends the first statement of a batch: a UNION ALL
// of a share-mode read of the users ids, a locking read of the swipes
// pairs, a locking read of the quota rows quotas (locked in that order,
// the order of the later writes), a plain read of the blocks among them
// and of each swiper's latest swipe time (ix_swipes_latest). Each part
// reads primary-key points (forced, see byPrimaryKey) or index ranges;
// MySQL takes each part's locking clause inside its parentheses.
func (s *Store) appendBatchLookup(buf []byte, ids, swipers []int64, pairs []Pair, quotas []QuotaKey) []byte {
	open, closed := "", ""
	if s.parenthesizedUnionParts() {
		open, closed = "(", ")"
	}
	buf = append(buf, open...)
	buf = append(buf, "SELECT 0 AS k, id AS a, vip_level AS b, NULL AS day, vip_expires_at AS at FROM users"...)
	buf = append(append(buf, s.byPrimaryKey()...), " WHERE id IN ("...)
	buf = append(appendInts(buf, ids...), ')')
	// Banned or deleted users are unknown; share mode: see SwipeFacts.Users.
	buf = append(buf, " AND banned_at IS NULL AND deleted_at IS NULL"...)
	buf = append(buf, s.shareLockSQL()...)
	buf = append(buf, closed...)
	buf = append(append(buf, " UNION ALL "...), open...)
	buf = s.appendPairLookup(buf, "1, swiper_id, swiped_id, NULL, NULL", "swipes", "swiper_id", "swiped_id", pairs)
	buf = append(buf, closed...)
	if len(quotas) > 0 {
		buf = append(append(buf, " UNION ALL "...), open...)
		buf = s.appendQuotaLookupCols(buf, "2, user_id, likes, day, NULL", quotas)
		buf = append(buf, closed...)
	}
	buf = append(append(buf, " UNION ALL "...), open...)
	buf = appendBlockLookup(buf, "3, blocker_id, blocked_id, NULL, NULL", pairs)
	buf = append(buf, closed...)
	if !s.latestPerSwiper() {
		buf = append(buf, " UNION ALL SELECT 4, swiper_id, 0, NULL, MAX(created_at) FROM swipes WHERE swiper_id IN ("...)
		return append(appendInts(buf, swipers...), ") GROUP BY swiper_id"...)
	}
	// One part per swiper: MAX over one swiper_id is one dive into
	// ix_swipes_latest, where MAX ... WHERE swiper_id IN (...) GROUP BY
	// read every swipe of each swiper (MariaDB's plan), a cost growing
	// with how much a user has swiped. A swiper who never swiped gets NULL.
	for _, id := range swipers {
		buf = append(append(buf, " UNION ALL "...), open...)
		buf = append(buf, "SELECT 4, "...)
		buf = strconv.AppendInt(buf, id, 10)
		buf = append(buf, ", 0, NULL, MAX(created_at) FROM swipes WHERE swiper_id = "...)
		buf = strconv.AppendInt(buf, id, 10)
		buf = append(buf, closed...)
	}
	return buf
}

// appendBlockLookup appends a plain SELECT of cols from the blocks among
// the users of ps (both users of each pair; a superset of the pairs'
// blocks, either way: the caller looks up its pairs), by ranges of the
// primary key: a user has few blocks.
func appendBlockLookup(buf []byte, cols string, ps []Pair) []byte {
	ids := make([]int64, 0, 2*len(ps))
	for _, p := range ps {
		ids = append(ids, p.From, p.To)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	buf = append(append(append(buf, "SELECT "...), cols...), " FROM blocks WHERE blocker_id IN ("...)
	buf = append(appendInts(buf, ids...), ") AND blocked_id IN ("...)
	return append(appendInts(buf, ids...), ')')
}

// pairOf orders a pair as matches and like_pairs store it (From < To).
func pairOf(p Pair) Pair {
	a, b := pair(p.From, p.To)
	return Pair{From: a, To: b}
}

// appendQuotaUpsert appends an upsert that adds add[q] likes to the quota
// row q of each of keys, creating the rows missing (nil add: it adds
// nothing, and only creates and locks them).
func (s *Store) appendQuotaUpsert(buf []byte, keys []QuotaKey, add map[QuotaKey]int) []byte {
	d := s.db.Dialect()
	buf = append(buf, "INSERT INTO daily_quotas (user_id, day, likes) VALUES "...)
	for i, q := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = d.AppendString(append(strconv.AppendInt(append(buf, '('), q.User, 10), ','), q.Day)
		buf = append(strconv.AppendInt(append(buf, ','), int64(add[q]), 10), ')')
	}
	return append(buf, s.upsertAdd([]string{"user_id", "day"}, "likes")...)
}

// appendQuotaLookupCols appends a locking SELECT of cols from the quota
// rows qs.
func (s *Store) appendQuotaLookupCols(buf []byte, cols string, qs []QuotaKey) []byte {
	d := s.db.Dialect()
	buf = append(append(append(buf, "SELECT "...), cols...), " FROM daily_quotas"...)
	buf = append(append(buf, s.byPrimaryKey()...), " WHERE "...)
	for i, q := range qs {
		if i > 0 {
			buf = append(buf, " OR "...)
		}
		buf = strconv.AppendInt(append(buf, "(user_id = "...), q.User, 10)
		buf = append(d.AppendString(append(buf, " AND day = "...), q.Day), ')')
	}
	return append(buf, s.forUpdateSQL()...)
}

// appendPairLookup appends a locking SELECT of cols from table of the rows
// whose primary key (a, b) is one of ps, written "(a = x AND b = y) OR …":
// on MariaDB a range of primary-key points (a row-constructor IN of this
// size becomes a join with a materialized table of values), and forced to
// the primary key (see byPrimaryKey).
func (s *Store) appendPairLookup(buf []byte, cols, table, a, b string, ps []Pair) []byte {
	buf = append(append(append(append(buf, "SELECT "...), cols...), " FROM "...), table...)
	buf = append(append(buf, s.byPrimaryKey()...), " WHERE "...)
	for i, p := range ps {
		if i > 0 {
			buf = append(buf, " OR "...)
		}
		buf = strconv.AppendInt(append(append(append(buf, '('), a...), " = "...), p.From, 10)
		buf = strconv.AppendInt(append(append(append(buf, " AND "...), b...), " = "...), p.To, 10)
		buf = append(buf, ')')
	}
	return append(buf, s.forUpdateSQL()...)
}

func appendInts(buf []byte, vs ...int64) []byte {
	for i, v := range vs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, v, 10)
	}
	return buf
}

func comparePairs(x, y Pair) int {
	return cmp.Or(cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To))
}

func compareQuotas(x, y QuotaKey) int {
	return cmp.Or(cmp.Compare(x.User, y.User), cmp.Compare(x.Day, y.Day))
}

// markSeedLikes sets the likes among sws on their pairs' rows (as
// Record does), in statements of at most rowsPerStmt rows: seeded likes
// match like any other. The rows go in key order, as Record's do, so
// that concurrent seed batches lock shared pair rows in one order rather
// than deadlock each other.
func (s *Store) markSeedLikes(ctx context.Context, tx bun.Tx, sws []Swipe, rowsPerStmt int) error {
	type like struct {
		k Pair
		a int64 // 1: user_a liked
	}
	var likes []like
	for _, w := range sws {
		if !IsLike(w.Action) || w.SwiperID == w.SwipedID {
			continue
		}
		k := pairOf(Pair{From: w.SwiperID, To: w.SwipedID})
		a := int64(0)
		if w.SwiperID == k.From {
			a = 1
		}
		likes = append(likes, like{k, a})
	}
	slices.SortFunc(likes, func(x, y like) int {
		return cmp.Or(cmp.Compare(x.k.From, y.k.From), cmp.Compare(x.k.To, y.k.To))
	})
	var buf []byte
	for len(likes) > 0 {
		n := min(len(likes), max(rowsPerStmt, 1))
		buf = append(buf[:0], "INSERT INTO like_pairs (user_a, user_b, likes, a_likes, b_likes) VALUES "...)
		for i, l := range likes[:n] {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(appendInts(append(buf, '('), l.k.From, l.k.To, 1, l.a, 1-l.a), ')')
		}
		buf = append(buf, s.upsertAdd([]string{"user_a", "user_b"}, "likes", "a_likes", "b_likes")...)
		if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
			return err
		}
		likes = likes[n:]
	}
	return nil
}
