package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// SwipeReq is one swipe of a SwipeBatch.
type SwipeReq struct {
	Swipe      Swipe  // SwiperID, SwipedID, Action, CreatedAt
	Day        string // local day whose like quota a like or superlike uses
	LikeLimit  int    // likes allowed on Day; < 0: unlimited (still counted)
	ScoreDelta int64  // added to the swiped user's score when accepted
	// Decide, when set, replaces LikeLimit: it gets the swiper's VIP
	// columns as the transaction reads them and returns the like limit, or
	// an error that refuses the swipe (its SwipeOutcome.Err, as is). A
	// swiper without a row is refused with ErrNoSwiper.
	Decide func(vipLevel int, vipExpiresAt *time.Time) (likeLimit int, err error)
}

// ErrNoSwiper refuses a swipe (with SwipeReq.Decide) whose swiper has no
// user row; it wraps ErrNotFound.
var ErrNoSwiper = fmt.Errorf("swiper: %w", ErrNotFound)

// SwipeOutcome is what became of one SwipeReq.
type SwipeOutcome struct {
	// Err is nil when the swipe was recorded, otherwise wraps ErrNotFound
	// (unknown swiped user), ErrConflict (the pair is already swiped, in
	// the database or earlier in the batch) or ErrFull (like quota used up).
	Err error
	// Matched reports that this swipe created the match of the two users.
	Matched bool
}

type swipePair struct{ from, to int64 }

type quotaKey struct {
	user int64
	day  string
}

type scoreAdd struct {
	user          int64
	delta, swipes int64
}

// SwipeBatch records reqs in one transaction (retried as a whole on a
// deadlock), deciding them in order as Swipe would one after the other,
// with a constant number of statements whatever the size of the batch:
//
//  1. one SELECT (appendBatchLookup) of which swiped users exist, with the
//     VIP columns of the swipers whose requests have Decide; of which pairs
//     are swiped already, locked (primary-key points: it waits for a
//     concurrent batch that inserted one of them, then sees it); and of the
//     quota rows of the likes' users and days, locked;
//  2. the like limits (Decide);
//  3. the quota rows missing for limited likes are created and locked by
//     one upsert that adds nothing, then read: two more statements on a
//     user's first like of the day;
//  4. the decisions, in memory: unknown user, conflict, quota — a limit L
//     with U used accepts the first L-U likes of that user and day;
//  5. the writes: one multi-row INSERT of swipes; the reverse likes of the
//     accepted likes, read locked after that INSERT (one SELECT … FOR
//     UPDATE); one upsert of the quotas; one upsert of the scores (summed
//     per user); and, when likes cross, one locked read and one INSERT of
//     the new matches.
//
// A like matches when the reverse like is in the database or was accepted
// earlier in the batch; the match goes to the later like (Matched), once.
// Reading the reverse likes after inserting its own, under a lock, is what
// makes two crossing likes in concurrent batches (of two replicas) match
// exactly once: each waits for the other's uncommitted like, the database
// breaks the deadlock, and the retried batch sees the committed like. On
// MySQL the transaction runs at READ COMMITTED (inReadCommittedTx): its locking reads lock the
// rows they find, not the gaps where absent ones would go, which under
// REPEATABLE READ made concurrent batches inserting swipes into each
// other's locked gaps deadlock all the time. Rows are written and locked
// in primary-key order so that batches take their locks in one order. The
// error is the transaction's; the fate of each request is in its
// SwipeOutcome.
func (s *Store) SwipeBatch(ctx context.Context, reqs []SwipeReq) ([]SwipeOutcome, error) {
	out := make([]SwipeOutcome, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	err := s.inReadCommittedTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		clear(out) // a retry decides again from what it reads
		return s.swipeBatch(ctx, tx, reqs, out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: swipe batch of %d: %w", len(reqs), classify(err))
	}
	return out, nil
}

func (s *Store) swipeBatch(ctx context.Context, tx bun.Tx, reqs []SwipeReq, out []SwipeOutcome) error {
	d := s.db.Dialect()
	buf := make([]byte, 0, 64*len(reqs)+128)

	// 1. One statement reads what the decisions need (see
	// appendBatchLookup): the swiped users that exist, with the VIP columns
	// of the swipers whose requests are decided on them; the pairs already
	// swiped, locked; and the quota rows of the likes' users and days,
	// locked.
	ids := make([]int64, 0, 2*len(reqs))
	pairs := make([]swipePair, 0, len(reqs))
	var quotas []quotaKey
	for _, r := range reqs {
		w := r.Swipe
		ids = append(ids, w.SwipedID)
		if r.Decide != nil {
			ids = append(ids, w.SwiperID)
		}
		pairs = append(pairs, swipePair{w.SwiperID, w.SwipedID})
		if IsLike(w.Action) {
			quotas = append(quotas, quotaKey{w.SwiperID, r.Day})
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.SortFunc(pairs, comparePairs)
	pairs = slices.Compact(pairs)
	slices.SortFunc(quotas, compareQuotas)
	quotas = slices.Compact(quotas)
	var rows []batchLookupRow
	buf = s.appendBatchLookup(buf[:0], ids, pairs, quotas)
	if err := tx.NewRaw(string(buf)).Scan(ctx, &rows); err != nil {
		return err
	}
	exists := make(map[int64]bool, len(ids))
	vips := make(map[int64]batchLookupRow, len(ids))
	stored := map[swipePair]bool{}
	used := map[quotaKey]int{}
	found := make(map[quotaKey]bool, len(quotas))
	blocked := map[swipePair]bool{}
	for _, row := range rows {
		switch row.Kind {
		case lookupUser:
			exists[row.A] = true
			vips[row.A] = row
		case lookupSwipe:
			stored[swipePair{row.A, row.B}] = true
		case lookupQuota:
			q := quotaKey{row.A, row.Day.String}
			used[q], found[q] = int(row.B), true
		case lookupBlock: // either way: the two are unknown to each other
			blocked[swipePair{row.A, row.B}] = true
			blocked[swipePair{row.B, row.A}] = true
		}
	}

	// 2. The like limits, and the refusals of Decide.
	limits := make([]int, len(reqs))
	refused := make([]error, len(reqs))
	for i, r := range reqs {
		limits[i] = r.LikeLimit
		if r.Decide == nil {
			continue
		}
		u, ok := vips[r.Swipe.SwiperID]
		if !ok {
			refused[i] = fmt.Errorf("store: swipe %d→%d: %w", r.Swipe.SwiperID, r.Swipe.SwipedID, ErrNoSwiper)
			continue
		}
		limits[i], refused[i] = r.Decide(int(u.B), u.At)
	}

	// 3. The quota rows missing for limited likes (a user's first like of
	// the day) are created and locked by an upsert that adds nothing, then
	// read. Unlimited likes are only counted (step 5), which locks their rows.
	var missing []quotaKey
	for i, r := range reqs {
		q := quotaKey{r.Swipe.SwiperID, r.Day}
		if refused[i] == nil && exists[r.Swipe.SwipedID] && !blocked[swipePair{r.Swipe.SwiperID, r.Swipe.SwipedID}] && IsLike(r.Swipe.Action) && limits[i] >= 0 && !found[q] {
			found[q] = true // once
			missing = append(missing, q)
		}
	}
	if len(missing) > 0 {
		slices.SortFunc(missing, compareQuotas)
		buf = s.appendQuotaUpsert(buf[:0], missing, nil)
		if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
			return err
		}
		// Another batch may have made one meanwhile.
		buf = s.appendQuotaLookup(buf[:0], missing)
		if err := scanRows(ctx, tx, string(buf), func(sc func(...any) error) error {
			var q quotaKey
			var likes int
			err := sc(&q.user, &q.day, &likes)
			used[q] = likes
			return err
		}); err != nil {
			return err
		}
	}

	// 4. The decisions, in the order of the requests.
	accepted := make(map[swipePair]int8, len(reqs))
	var swipes []int // indexes of the accepted requests
	likesAdded := map[quotaKey]int{}
	scores := map[int64]*scoreAdd{}
	var matches []int // indexes of the accepted likes that complete a match
	for i, r := range reqs {
		w := r.Swipe
		p := swipePair{w.SwiperID, w.SwipedID}
		if refused[i] != nil {
			out[i].Err = refused[i]
			continue
		}
		if !exists[w.SwipedID] || blocked[p] {
			out[i].Err = fmt.Errorf("store: swipe %d→%d: %w", p.from, p.to, ErrNotFound)
			continue
		}
		if _, inBatch := accepted[p]; inBatch || stored[p] {
			out[i].Err = fmt.Errorf("store: swipe %d→%d: %w", p.from, p.to, ErrConflict)
			continue
		}
		like := IsLike(w.Action)
		if like {
			q := quotaKey{w.SwiperID, r.Day}
			if limits[i] >= 0 && used[q] >= limits[i] {
				out[i].Err = fmt.Errorf("store: swipe %d→%d: %w", p.from, p.to, ErrFull)
				continue
			}
			used[q]++
			likesAdded[q]++
		}
		accepted[p] = w.Action
		swipes = append(swipes, i)
		sc := scores[w.SwipedID]
		if sc == nil {
			sc = &scoreAdd{user: w.SwipedID}
			scores[w.SwipedID] = sc
		}
		sc.delta += r.ScoreDelta
		sc.swipes++
		if like && IsLike(accepted[swipePair{w.SwipedID, w.SwiperID}]) && w.SwipedID != w.SwiperID {
			matches = append(matches, i) // crosses an earlier like of the batch
		}
	}
	if len(swipes) == 0 {
		return nil
	}

	// 5. The writes. Swipes go in by swiper, and in the order of the
	// requests for one swiper: a user's swipes are ordered by created_at
	// (the latest is the one a rewind undoes), and ids, assigned in the
	// order of the rows of one statement, break ties.
	slices.SortStableFunc(swipes, func(a, b int) int {
		return cmp.Compare(reqs[a].Swipe.SwiperID, reqs[b].Swipe.SwiperID)
	})
	buf = append(buf[:0], "INSERT INTO swipes (swiper_id, swiped_id, action, created_at) VALUES "...)
	for k, i := range swipes {
		w := reqs[i].Swipe
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = appendInts(append(buf, '('), w.SwiperID, w.SwipedID, int64(w.Action))
		buf = append(d.AppendTime(append(buf, ','), w.CreatedAt), ')')
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		if isDuplicate(err) { // inserted by a concurrent batch after step 2
			return errors.Join(errRaced, err)
		}
		return err
	}

	// The reverse likes in the database of the accepted likes, read locked
	// now that this batch's likes are in (see above), after writing each
	// like's pair row (see appendLikePairs).
	var backs []swipePair
	for _, i := range swipes {
		w := reqs[i].Swipe
		back := swipePair{w.SwipedID, w.SwiperID}
		if _, inBatch := accepted[back]; IsLike(w.Action) && !inBatch {
			backs = append(backs, back)
		}
	}
	if len(backs) > 0 {
		buf = s.appendLikePairs(buf[:0], backs)
		if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
			return err
		}
		slices.SortFunc(backs, comparePairs)
		buf = s.appendPairLookup(buf[:0], "swiper_id, swiped_id, action", "swipes", "swiper_id", "swiped_id", backs)
		liked := map[swipePair]bool{}
		if err := scanRows(ctx, tx, string(buf), func(sc func(...any) error) error {
			var p swipePair
			var act int8
			err := sc(&p.from, &p.to, &act)
			liked[p] = IsLike(act)
			return err
		}); err != nil {
			return err
		}
		for _, i := range swipes {
			if w := reqs[i].Swipe; IsLike(w.Action) && liked[swipePair{w.SwipedID, w.SwiperID}] {
				matches = append(matches, i)
			}
		}
	}

	if len(likesAdded) > 0 {
		keys := make([]quotaKey, 0, len(likesAdded))
		for q := range likesAdded {
			keys = append(keys, q)
		}
		slices.SortFunc(keys, compareQuotas)
		buf = s.appendQuotaUpsert(buf[:0], keys, likesAdded)
		if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
			return err
		}
	}

	adds := make([]*scoreAdd, 0, len(scores))
	for _, sc := range scores {
		adds = append(adds, sc)
	}
	slices.SortFunc(adds, func(a, b *scoreAdd) int { return cmp.Compare(a.user, b.user) })
	buf = append(buf[:0], "INSERT INTO scores (user_id, score, swipes) VALUES "...)
	for i, sc := range adds {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(appendInts(append(buf, '('), sc.user, sc.delta, sc.swipes), ')')
	}
	buf = append(buf, s.upsertAdd([]string{"user_id"}, "score", "swipes")...)
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return err
	}

	if len(matches) == 0 {
		return nil
	}
	// A block of the two commits either before this batch locks their
	// pair row (then it is read here, and the pair is not matched) or after
	// this batch commits (then the block removes the match): a block takes
	// the same row first (Store.Block).
	cand := make([]swipePair, len(matches))
	for k, i := range matches {
		a, b := pair(reqs[i].Swipe.SwiperID, reqs[i].Swipe.SwipedID)
		cand[k] = swipePair{a, b}
	}
	{
		sorted := slices.Clone(cand)
		slices.SortFunc(sorted, comparePairs)
		sorted = slices.Compact(sorted)
		buf = s.appendPairRows(buf[:0], sorted, 0)
		if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
			return err
		}
		buf = appendBlockLookup(buf[:0], "blocker_id, blocked_id", sorted)
		nowBlocked := map[swipePair]bool{}
		if err := scanRows(ctx, tx, string(buf), func(sc func(...any) error) error {
			var p swipePair
			err := sc(&p.from, &p.to)
			nowBlocked[pairOf(p)] = true
			return err
		}); err != nil {
			return err
		}
		if len(nowBlocked) > 0 {
			kept, keptCand := matches[:0], cand[:0]
			for k, i := range matches {
				if !nowBlocked[cand[k]] {
					kept, keptCand = append(kept, i), append(keptCand, cand[k])
				}
			}
			matches, cand = kept, keptCand
			if len(matches) == 0 {
				return nil
			}
		}
	}
	// A match row can exist without the likes (seeded data): read them
	// locked, so that Matched is true only for the match created now.
	sorted := slices.Clone(cand)
	slices.SortFunc(sorted, comparePairs)
	buf = s.appendPairLookup(buf[:0], "user_a, user_b", "matches", "user_a", "user_b", sorted)
	had := map[swipePair]bool{}
	if err := scanRows(ctx, tx, string(buf), func(sc func(...any) error) error {
		var p swipePair
		err := sc(&p.from, &p.to)
		had[p] = true
		return err
	}); err != nil {
		return err
	}
	type newMatch struct {
		p swipePair
		i int
	}
	var fresh []newMatch
	for k, i := range matches {
		if !had[cand[k]] {
			fresh = append(fresh, newMatch{cand[k], i})
			out[i].Matched = true
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	slices.SortFunc(fresh, func(a, b newMatch) int { return comparePairs(a.p, b.p) })
	buf = append(append(buf[:0], s.insertIgnore()...), "matches (user_a, user_b, matched_at) VALUES "...)
	for k, m := range fresh {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = appendInts(append(buf, '('), m.p.from, m.p.to)
		buf = append(d.AppendTime(append(buf, ','), reqs[m.i].Swipe.CreatedAt), ')')
	}
	_, err := tx.ExecContext(ctx, string(buf))
	return err
}

// appendLikePairs appends the upsert of the like_pairs rows of the likes
// whose reverse likes are read next (backs holds those reverse pairs). Both
// of two crossing likes write this one row, which is what makes them match
// exactly once on any engine: a single server makes the second wait for the
// first's commit, a multi-writer cluster (Galera, TiDB) refuses the second
// commit and the batch is retried; either way the later like then reads the
// earlier one (migration 00008).
func (s *Store) appendLikePairs(buf []byte, backs []swipePair) []byte {
	keys := make([]swipePair, 0, len(backs))
	for _, b := range backs {
		a, c := pair(b.from, b.to)
		keys = append(keys, swipePair{a, c})
	}
	slices.SortFunc(keys, comparePairs)
	return s.appendPairRows(buf, slices.Compact(keys), 1)
}

// appendPairRows appends the upsert of the like_pairs rows keys (sorted,
// user_a < user_b), adding likes to each.
func (s *Store) appendPairRows(buf []byte, keys []swipePair, likes int64) []byte {
	buf = append(buf, "INSERT INTO like_pairs (user_a, user_b, likes) VALUES "...)
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(appendInts(append(buf, '('), k.from, k.to, likes), ')')
	}
	return append(buf, s.upsertAdd([]string{"user_a", "user_b"}, "likes")...)
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
	A    int64          `bun:"a"`   // users.id, swipes.swiper_id, daily_quotas.user_id
	B    int64          `bun:"b"`   // users.vip_level, swipes.swiped_id, daily_quotas.likes
	Day  sql.NullString `bun:"day"` // daily_quotas.day
	At   *time.Time     `bun:"at"`  // users.vip_expires_at
}

// The kinds of batchLookupRow.
const (
	lookupUser = iota
	lookupSwipe
	lookupQuota
	lookupBlock
)

// appendBatchLookup appends the first statement of a batch: a UNION ALL
// of a plain read of the users ids, a locking read of the swipes pairs and
// a locking read of the quota rows quotas (locked in that order, the order
// of the later writes). Each part reads primary-key points (forced, see
// byPrimaryKey);
// MySQL takes each part's FOR UPDATE inside its parentheses.
func (s *Store) appendBatchLookup(buf []byte, ids []int64, pairs []swipePair, quotas []quotaKey) []byte {
	open, closed := "", ""
	if s.parenthesizedUnionParts() {
		open, closed = "(", ")"
	}
	buf = append(buf, open...)
	buf = append(buf, "SELECT 0 AS k, id AS a, vip_level AS b, NULL AS day, vip_expires_at AS at FROM users"...)
	buf = append(append(buf, s.byPrimaryKey()...), " WHERE id IN ("...)
	buf = append(appendInts(buf, ids...), ')')
	// Banned or deleted users are unknown. The rows are read in share mode:
	// a ban or an account deletion (which write them) waits for this
	// batch's commit, and a batch after it reads the change, so no swipe
	// commits after a deletion has removed the user's swipes.
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
	return append(buf, closed...)
}

// appendBlockLookup appends a plain SELECT of cols from the blocks among
// the users of ps (both users of each pair; a superset of the pairs'
// blocks, either way: the caller looks up its pairs), by ranges of the
// primary key: a user has few blocks.
func appendBlockLookup(buf []byte, cols string, ps []swipePair) []byte {
	ids := make([]int64, 0, 2*len(ps))
	for _, p := range ps {
		ids = append(ids, p.from, p.to)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	buf = append(append(append(buf, "SELECT "...), cols...), " FROM blocks WHERE blocker_id IN ("...)
	buf = append(appendInts(buf, ids...), ") AND blocked_id IN ("...)
	return append(appendInts(buf, ids...), ')')
}

// pairOf orders a pair as matches and like_pairs store it (a < b).
func pairOf(p swipePair) swipePair {
	a, b := pair(p.from, p.to)
	return swipePair{a, b}
}

// appendQuotaUpsert appends an upsert that adds add[q] likes to the quota
// row q of each of keys, creating the rows missing (nil add: it adds
// nothing, and only creates and locks them).
func (s *Store) appendQuotaUpsert(buf []byte, keys []quotaKey, add map[quotaKey]int) []byte {
	d := s.db.Dialect()
	buf = append(buf, "INSERT INTO daily_quotas (user_id, day, likes) VALUES "...)
	for i, q := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = d.AppendString(append(strconv.AppendInt(append(buf, '('), q.user, 10), ','), q.day)
		buf = append(strconv.AppendInt(append(buf, ','), int64(add[q]), 10), ')')
	}
	return append(buf, s.upsertAdd([]string{"user_id", "day"}, "likes")...)
}

// appendQuotaLookup appends a locking SELECT of the quota rows qs.
func (s *Store) appendQuotaLookup(buf []byte, qs []quotaKey) []byte {
	return s.appendQuotaLookupCols(buf, "user_id, day, likes", qs)
}

func (s *Store) appendQuotaLookupCols(buf []byte, cols string, qs []quotaKey) []byte {
	d := s.db.Dialect()
	buf = append(append(append(buf, "SELECT "...), cols...), " FROM daily_quotas"...)
	buf = append(append(buf, s.byPrimaryKey()...), " WHERE "...)
	for i, q := range qs {
		if i > 0 {
			buf = append(buf, " OR "...)
		}
		buf = strconv.AppendInt(append(buf, "(user_id = "...), q.user, 10)
		buf = append(d.AppendString(append(buf, " AND day = "...), q.day), ')')
	}
	return append(buf, s.forUpdateSQL()...)
}

// appendPairLookup appends a locking SELECT of cols from table of the rows
// whose primary key (a, b) is one of ps, written "(a = x AND b = y) OR …":
// on MariaDB a range of primary-key points (a row-constructor IN of this
// size becomes a join with a materialized table of values), and forced to
// the primary key (see byPrimaryKey).
func (s *Store) appendPairLookup(buf []byte, cols, table, a, b string, ps []swipePair) []byte {
	buf = append(append(append(append(buf, "SELECT "...), cols...), " FROM "...), table...)
	buf = append(append(buf, s.byPrimaryKey()...), " WHERE "...)
	for i, p := range ps {
		if i > 0 {
			buf = append(buf, " OR "...)
		}
		buf = strconv.AppendInt(append(append(append(buf, '('), a...), " = "...), p.from, 10)
		buf = strconv.AppendInt(append(append(append(buf, " AND "...), b...), " = "...), p.to, 10)
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

func comparePairs(x, y swipePair) int {
	return cmp.Or(cmp.Compare(x.from, y.from), cmp.Compare(x.to, y.to))
}

func compareQuotas(x, y quotaKey) int {
	return cmp.Or(cmp.Compare(x.user, y.user), cmp.Compare(x.day, y.day))
}
