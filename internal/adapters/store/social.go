package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/domain/model"
)

type matchRow struct {
	bun.BaseModel `bun:"table:matches"`

	UserA     int64     `bun:"user_a,pk"`
	UserB     int64     `bun:"user_b,pk"`
	MatchedAt time.Time `bun:"matched_at"`
}

func pair(x, y int64) (int64, int64) {
	if x < y {
		return x, y
	}
	return y, x
}

// ensureRows creates the day row of the quota and the score row of the
// swiped user when missing, each in its own statement outside the swipe's
// transaction: an INSERT IGNORE that finds the row holds a shared lock, and
// holding it in the transaction before the UPDATE that needs the exclusive
// one would make concurrent swipes of one user deadlock each other.
func (s *Store) ensureRows(ctx context.Context, quota *DailyQuota, scoreOf int64) error {
	if quota != nil {
		q := DailyQuota{UserID: quota.UserID, Day: quota.Day}
		if _, err := s.db.NewInsert().Model(&q).Ignore().Exec(ctx); err != nil {
			return classify(err)
		}
	}
	if scoreOf > 0 {
		sc := Score{UserID: scoreOf}
		if _, err := s.db.NewInsert().Model(&sc).Ignore().Exec(ctx); err != nil {
			return classify(err)
		}
	}
	return nil
}

// RewindFacts reads the latest swipe of userID (by created_at), whether
// its two users are matched, and the rewinds userID used on day.
func (s *Store) RewindFacts(ctx context.Context, userID int64, day string) (RewindFacts, error) {
	var f RewindFacts
	var sws []Swipe
	if err := s.db.NewSelect().Model(&sws).Column("swiper_id", "swiped_id", "action", "created_at").
		Where("swiper_id = ?", userID).OrderExpr("created_at DESC").Limit(1).Scan(ctx); err != nil {
		return RewindFacts{}, fmt.Errorf("store: latest swipe of %d: %w", userID, classify(err))
	}
	if len(sws) > 0 {
		f.Latest = &sws[0]
		a, b := pair(sws[0].SwiperID, sws[0].SwipedID)
		n, err := s.db.NewSelect().Model((*matchRow)(nil)).Where("user_a = ? AND user_b = ?", a, b).Count(ctx)
		if err != nil {
			return RewindFacts{}, fmt.Errorf("store: match %d-%d: %w", a, b, classify(err))
		}
		f.Matched = n > 0
	}
	_, rewinds, err := s.UsedToday(ctx, userID, day)
	f.Rewinds = rewinds
	return f, err
}

// ApplyRewind undoes u.Swipe in one transaction: the rewind counts
// against the day's limit by a conditional UPDATE (ErrFull when used up),
// the swipe is checked to be still the latest and its pair's match state
// to be unchanged (ErrStale otherwise; nothing is written), then the
// swipe, its like on the pair row, its score, its use of the like quota
// and the match with its conversation are removed.
func (s *Store) ApplyRewind(ctx context.Context, u RewindUndo) error {
	sw := u.Swipe
	if err := s.ensureRows(ctx, &DailyQuota{UserID: sw.SwiperID, Day: u.Day}, 0); err != nil {
		return fmt.Errorf("store: rewind: %w", err)
	}
	a, b := pair(sw.SwiperID, sw.SwipedID)
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*DailyQuota)(nil)).Set("rewinds = rewinds + 1").
			Where("user_id = ? AND day = ? AND rewinds < ?", sw.SwiperID, u.Day, u.MaxRewinds).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrFull
		}
		var latest []Swipe
		if err := s.forUpdate(tx.NewSelect().Model(&latest).Column("swiper_id", "swiped_id", "action", "created_at").
			Where("swiper_id = ?", sw.SwiperID).OrderExpr("created_at DESC").Limit(1)).Scan(ctx); err != nil {
			return err
		}
		if len(latest) == 0 || latest[0].SwipedID != sw.SwipedID || latest[0].Action != sw.Action || !latest[0].CreatedAt.Equal(sw.CreatedAt) {
			return ErrStale
		}
		if IsLike(sw.Action) { // the pair row first: the conflict point of its likes and blocks
			side := "a_likes"
			if sw.SwiperID != a {
				side = "b_likes"
			}
			if _, err := tx.ExecContext(ctx, "UPDATE like_pairs SET "+side+" = 0 WHERE user_a = ? AND user_b = ?", a, b); err != nil {
				return err
			}
		}
		var matched []int64
		if err := s.forUpdate(tx.NewSelect().Model((*matchRow)(nil)).Column("user_a").
			Where("user_a = ? AND user_b = ?", a, b)).Scan(ctx, &matched); err != nil {
			return err
		}
		if (len(matched) > 0) != u.Matched {
			return ErrStale
		}
		if _, err := tx.NewDelete().Model((*Swipe)(nil)).
			Where("swiper_id = ? AND swiped_id = ?", sw.SwiperID, sw.SwipedID).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Score)(nil)).Set("score = score + ?", u.ScoreDelta).
			Set("swipes = swipes - 1").Where("user_id = ?", sw.SwipedID).Exec(ctx); err != nil {
			return err
		}
		if u.LikeDay != "" {
			if _, err := tx.NewUpdate().Model((*DailyQuota)(nil)).Set("likes = likes - 1").
				Where("user_id = ? AND day = ? AND likes > 0", sw.SwiperID, u.LikeDay).Exec(ctx); err != nil {
				return err
			}
		}
		if u.Matched {
			if _, err := tx.NewDelete().Model((*matchRow)(nil)).Where("user_a = ? AND user_b = ?", a, b).Exec(ctx); err != nil {
				return err
			}
			return deleteConversationIn(ctx, tx, a, b) // the match goes with its conversation
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: rewind %d: %w", sw.SwiperID, classify(err))
	}
	return nil
}

// UsedToday returns the likes and rewinds userID used on day.
func (s *Store) UsedToday(ctx context.Context, userID int64, day string) (likes, rewinds int, err error) {
	var qs []DailyQuota
	if err := s.db.NewSelect().Model(&qs).Where("user_id = ? AND day = ?", userID, day).Scan(ctx); err != nil {
		return 0, 0, fmt.Errorf("store: quota %d: %w", userID, classify(err))
	}
	if len(qs) == 0 {
		return 0, 0, nil
	}
	return qs[0].Likes, qs[0].Rewinds, nil
}

// Users returns the existing users among ids, by id.
func (s *Store) Users(ctx context.Context, ids []int64) (map[int64]User, error) {
	out := make(map[int64]User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var us []User
	if err := s.db.NewSelect().Model(&us).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: users: %w", classify(err))
	}
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}

// PhotosOf returns the albums of ids, by user id, ordered by position.
func (s *Store) PhotosOf(ctx context.Context, ids []int64) (map[int64][]Photo, error) {
	out := make(map[int64][]Photo, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var ps []Photo
	if err := s.db.NewSelect().Model(&ps).Where("user_id IN (?)", bun.In(ids)).Order("user_id", "position").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: photos: %w", classify(err))
	}
	for _, p := range ps {
		out[p.UserID] = append(out[p.UserID], p)
	}
	return out, nil
}

// Likers returns one page of the users who liked or superliked userID and
// whom userID has not swiped (superlikes first, then newest), and their total.
func (s *Store) Likers(ctx context.Context, userID int64, limit, offset int) ([]Liker, int, error) {
	base := func() *bun.SelectQuery {
		return s.db.NewSelect().TableExpr("swipes AS s").
			Where("s.swiped_id = ? AND s.action IN (?, ?)", userID, ActionLike, ActionSuperlike).
			Where("NOT EXISTS (SELECT 1 FROM swipes AS m WHERE m.swiper_id = ? AND m.swiped_id = s.swiper_id)", userID).
			Where(PeerVisibleSQL(userID, "s.swiper_id"))
	}
	total, err := base().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: likers of %d: %w", userID, classify(err))
	}
	var ls []Liker
	err = base().Column("s.swiper_id", "s.action", "s.created_at").
		OrderExpr("CASE WHEN s.action = ? THEN 0 ELSE 1 END", ActionSuperlike).
		OrderExpr("s.created_at DESC, s.id DESC").Limit(int64(limit)).Offset(int64(offset)).Scan(ctx, &ls)
	if err != nil {
		return nil, 0, fmt.Errorf("store: likers of %d: %w", userID, classify(err))
	}
	return ls, int(total), nil
}

// Matches returns one page of userID's matches by matched_at (newest first
// unless oldestFirst; ties by user id) and their total.
func (s *Store) Matches(ctx context.Context, userID int64, limit, offset int, oldestFirst bool) ([]Match, int, error) {
	var total int
	// Matches with users unknown to userID (banned, blocked) are left out:
	// a ban hides them, an unban brings them back.
	visA, visB := PeerVisibleSQL(userID, "user_b"), PeerVisibleSQL(userID, "user_a")
	if err := s.db.NewRaw("SELECT (SELECT COUNT(*) FROM matches WHERE user_a = ? AND "+visA+") + (SELECT COUNT(*) FROM matches WHERE user_b = ? AND "+visB+")",
		userID, userID).Scan(ctx, &total); err != nil {
		return nil, 0, fmt.Errorf("store: matches of %d: %w", userID, classify(err))
	}
	dir := "DESC"
	if oldestFirst {
		dir = "ASC"
	}
	var ms []Match
	err := s.db.NewRaw("SELECT other_id, matched_at FROM ("+
		"SELECT user_b AS other_id, matched_at FROM matches WHERE user_a = ? AND "+visA+" "+
		"UNION ALL SELECT user_a AS other_id, matched_at FROM matches WHERE user_b = ? AND "+visB+

		") AS x ORDER BY matched_at "+dir+", other_id ASC LIMIT ? OFFSET ?", userID, userID, limit, offset).Scan(ctx, &ms)
	if err != nil {
		return nil, 0, fmt.Errorf("store: matches of %d: %w", userID, classify(err))
	}
	return ms, total, nil
}

// Unmatch removes the match of a and b and its conversation (messages.go)
// in one transaction (ErrNotFound when there is no match). The swipes stay.
func (s *Store) Unmatch(ctx context.Context, a, b int64) error {
	x, y := pair(a, b)
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*matchRow)(nil)).Where("user_a = ? AND user_b = ?", x, y).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return deleteConversationIn(ctx, tx, x, y)
	})
	if err != nil {
		return fmt.Errorf("store: unmatch %d/%d: %w", a, b, classify(err))
	}
	return nil
}

// TopScores returns the n best positive scores (ties by lower user id): the
// hot rank lists only users with a positive score. One walk of the first
// rows of ix_scores_rank (score DESC, user_id): the hot rank's refill.
func (s *Store) TopScores(ctx context.Context, n int) ([]Score, error) {
	var sc []Score
	if err := s.topScores(&sc, n).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: top scores: %w", classify(err))
	}
	return sc, nil
}

func (s *Store) topScores(sc *[]Score, n int) *bun.SelectQuery {
	return s.db.NewSelect().Model(sc).Where("swipes > 0 AND score > 0").OrderExpr("score DESC, user_id ASC").Limit(int64(n))
}

// RankedScores returns the scores of those of ids that rank (a swipe
// received, a positive score), by primary key: what the hot rank's board
// reads after a change.
func (s *Store) RankedScores(ctx context.Context, ids []int64) ([]Score, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var sc []Score
	if err := s.rankedScores(&sc, ids).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: scores of %d users: %w", len(ids), classify(err))
	}
	return sc, nil
}

func (s *Store) rankedScores(sc *[]Score, ids []int64) *bun.SelectQuery {
	return s.db.NewSelect().Model(sc).Where("user_id IN (?) AND swipes > 0 AND score > 0", bun.In(ids))
}

// ---------------------------------------------------------------- seeding

// SeedUser is what the swipe seeder needs of a user.
type SeedUser struct {
	ID     int64  `bun:"id"`
	Gender string `bun:"gender"`
	City   string `bun:"city"`
}

// SeedUsers returns the users with first <= id <= last, by id.
func (s *Store) SeedUsers(ctx context.Context, first, last int64) ([]SeedUser, error) {
	var us []SeedUser
	const page = 100_000
	for from := first; from <= last; from += page {
		var chunk []SeedUser
		if err := s.db.NewSelect().Table("users").Column("id", "gender", "city").
			Where("id >= ? AND id <= ?", from, min(from+page-1, last)).Order("id").Scan(ctx, &chunk); err != nil {
			return nil, fmt.Errorf("store: seed users: %w", classify(err))
		}
		us = append(us, chunk...)
	}
	return us, nil
}

// swipeIndexes are the secondary indexes of swipes that a bulk load
// rebuilds (as in migrations/mysql/00002_social.sql and 00010_swipe_order.sql).
var swipeIndexes = [][2]string{
	{"ix_swipes_swiped", "swiped_id, action, created_at"},
	{"ix_swipes_latest", "swiper_id, created_at, id"},
}

// BulkLoadSwipes runs load, which inserts many swipes. Where the database
// can (canRebuildIndexes), when the table is empty (a fresh seed), the
// secondary indexes are dropped first and rebuilt afterwards, whatever load
// returns.
func (s *Store) BulkLoadSwipes(ctx context.Context, load func(ctx context.Context) error) error {
	if !s.canRebuildIndexes() {
		return load(ctx)
	}
	var some []int64
	if err := s.db.NewSelect().Model((*Swipe)(nil)).Column("swiper_id").Limit(1).Scan(ctx, &some); err != nil {
		return fmt.Errorf("store: bulk load: %w", classify(err))
	}
	if len(some) > 0 {
		return load(ctx)
	}
	if _, err := s.db.ExecContext(ctx, dropIndexesSQL("swipes", swipeIndexes)); err != nil {
		return fmt.Errorf("store: bulk load: %w", classify(err))
	}
	err := load(ctx)
	add := addIndexesSQL("swipes", swipeIndexes)
	if aerr := s.rebuildSwipeIndexes(ctx, add, 2*time.Second); aerr != nil {
		err = errors.Join(err, fmt.Errorf("store: bulk load: rebuild indexes (run: %s): %w", add, aerr))
	}
	return err
}

// rebuildSwipeIndexes runs the ALTER that adds the indexes back, even when
// ctx is done (a load that was cancelled must not leave the table without
// them). On a big table it outlasts the driver's read timeout (readTimeout
// in the DSN): the server goes on building, so a timed-out ALTER is
// followed, every poll, until the indexes show up, an hour passes or ctx
// is done.
func (s *Store) rebuildSwipeIndexes(ctx context.Context, add string, poll time.Duration) error {
	_, err := s.db.ExecContext(context.WithoutCancel(ctx), add)
	if err == nil || serverRefused(err) { // refused: nothing is running
		return err
	}
	names := make([]string, len(swipeIndexes))
	for i, ix := range swipeIndexes {
		names[i] = ix[0]
	}
	deadline := time.NewTimer(time.Hour)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return errors.Join(err, fmt.Errorf("stopped waiting for the server to build the indexes: %w", ctx.Err()))
		case <-deadline.C:
			return err
		case <-tick.C:
		}
		var n int
		if qerr := s.db.NewRaw(indexesPresentSQL, "swipes", bun.In(names)).Scan(ctx, &n); qerr == nil && n == len(swipeIndexes) {
			return nil
		}
	}
}

// SeedBatch is what one seed transaction inserts.
type SeedBatch struct {
	Swipes  []Swipe
	Matches [][2]int64 // user_a < user_b
	MatchAt []time.Time
	Scores  []Score
}

// InsertSeedBatch inserts b in one transaction with multi-row INSERTs of at
// most rowsPerStmt rows, written straight into the SQL text (bulk loading
// through bun's models would cost more than the database). It reads
// nothing, so it runs at READ COMMITTED: under REPEATABLE READ the seed's
// concurrent batches' gap locks on like_pairs deadlocked each other past
// the retries at 1M users.
func (s *Store) InsertSeedBatch(ctx context.Context, b SeedBatch, rowsPerStmt int) error {
	d := s.db.Dialect()
	err := s.inReadCommittedTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		buf := make([]byte, 0, rowsPerStmt*64)
		// insert writes rows 0..rows-1 with row(buf, i) appending one tuple.
		insert := func(head string, rows int, row func(buf []byte, i int) []byte) error {
			for i := 0; i < rows; {
				buf = append(buf[:0], head...)
				for n := 0; i < rows && n < rowsPerStmt; i, n = i+1, n+1 {
					if n > 0 {
						buf = append(buf, ',')
					}
					buf = append(row(append(buf, '('), i), ')')
				}
				if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
					return err
				}
			}
			return nil
		}
		ints := func(buf []byte, vs ...int64) []byte {
			for k, v := range vs {
				if k > 0 {
					buf = append(buf, ',')
				}
				buf = strconv.AppendInt(buf, v, 10)
			}
			return buf
		}
		if err := insert("INSERT INTO swipes (swiper_id, swiped_id, action, created_at) VALUES ", len(b.Swipes), func(buf []byte, i int) []byte {
			w := b.Swipes[i]
			return d.AppendTime(append(ints(buf, w.SwiperID, w.SwipedID, int64(w.Action)), ','), w.CreatedAt)
		}); err != nil {
			return err
		}
		if err := s.markSeedLikes(ctx, tx, b.Swipes, rowsPerStmt); err != nil {
			return err
		}
		if err := insert("INSERT INTO matches (user_a, user_b, matched_at) VALUES ", len(b.Matches), func(buf []byte, i int) []byte {
			return d.AppendTime(append(ints(buf, b.Matches[i][0], b.Matches[i][1]), ','), b.MatchAt[i])
		}); err != nil {
			return err
		}
		return insert("INSERT INTO scores (user_id, score, swipes) VALUES ", len(b.Scores), func(buf []byte, i int) []byte {
			return ints(buf, b.Scores[i].UserID, b.Scores[i].Score, int64(b.Scores[i].Swipes))
		})
	})
	if err != nil {
		return fmt.Errorf("store: seed social batch: %w", classify(err))
	}
	return nil
}

// ---------------------------------------------------------------- deck index

// DeckRow is what the in-memory deck index keeps of a user (model.DeckRow).
type DeckRow = model.DeckRow

const deckRowColumns = "u.id, u.nickname, u.avatar, u.gender, u.birthday, u.city, u.cell_lat, u.cell_lng, u.active_at, u.photo_count, " +
	"p.dating_gender, p.dating_city, p.min_distance, p.max_distance, p.min_dating_age, p.max_dating_age, p.only_matched"

// DeckRowsAfter returns the deck rows of the n users after id after, by id
// (loading the index in chunks): two range scans of primary keys, merged
// here, which is about twice as fast as the join on a cold buffer pool.
// last is the last id read (0 at the end).
func (s *Store) DeckRowsAfter(ctx context.Context, after int64, n int) (rows []DeckRow, last int64, err error) {
	var us []DeckRow
	if err := s.db.NewRaw("SELECT id, nickname, avatar, gender, birthday, city, cell_lat, cell_lng, active_at, photo_count FROM users AS u "+
		"WHERE id > ? AND "+deckShownSQL("u")+" ORDER BY id LIMIT ?", after, n).Scan(ctx, &us); err != nil {
		return nil, 0, fmt.Errorf("store: deck rows after %d: %w", after, classify(err))
	}
	if len(us) == 0 {
		return nil, 0, nil
	}
	last = us[len(us)-1].ID
	type prefs struct {
		UserID       int64  `bun:"user_id"`
		DatingGender string `bun:"dating_gender"`
		DatingCity   string `bun:"dating_city"`
		MinDistance  int    `bun:"min_distance"`
		MaxDistance  int    `bun:"max_distance"`
		MinDatingAge int    `bun:"min_dating_age"`
		MaxDatingAge int    `bun:"max_dating_age"`
		OnlyMatched  bool   `bun:"only_matched"`
	}
	var ps []prefs
	if err := s.db.NewRaw("SELECT user_id, dating_gender, dating_city, min_distance, max_distance, min_dating_age, max_dating_age, only_matched "+
		"FROM profiles WHERE user_id > ? AND user_id <= ? ORDER BY user_id", after, last).Scan(ctx, &ps); err != nil {
		return nil, 0, fmt.Errorf("store: deck rows after %d: %w", after, classify(err))
	}
	out := us[:0]
	j := 0
	for _, u := range us {
		for j < len(ps) && ps[j].UserID < u.ID {
			j++
		}
		if j == len(ps) || ps[j].UserID != u.ID {
			continue // no profile: never in a deck
		}
		p := ps[j]
		u.DatingGender, u.DatingCity, u.MinDistance, u.MaxDistance = p.DatingGender, p.DatingCity, p.MinDistance, p.MaxDistance
		u.MinDatingAge, u.MaxDatingAge, u.OnlyMatched = p.MinDatingAge, p.MaxDatingAge, p.OnlyMatched
		out = append(out, u)
	}
	return out, last, nil
}

// DeckRowsOf returns the deck rows of the users among ids that exist and
// have a profile.
func (s *Store) DeckRowsOf(ctx context.Context, ids []int64) ([]DeckRow, error) {
	var out []DeckRow
	for start := 0; start < len(ids); start += 1000 {
		var rows []DeckRow
		err := s.db.NewRaw("SELECT "+deckRowColumns+" FROM users AS u JOIN profiles AS p ON p.user_id = u.id "+
			"WHERE u.id IN (?) AND "+deckShownSQL("u"), bun.In(ids[start:min(start+1000, len(ids))])).Scan(ctx, &rows)
		if err != nil {
			return nil, fmt.Errorf("store: deck rows: %w", classify(err))
		}
		out = append(out, rows...)
	}
	return out, nil
}

// DeckStamps are the newest updated_at of users and profiles
// (model.DeckStamps).
type DeckStamps = model.DeckStamps

// stampText turns a scanned updated_at into comparable text: MySQL's
// DATETIME(6) arrives as a time.Time, SQLite's as text.
func stampText(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.000000")
	case []byte:
		return string(x)
	case string:
		return x
	}
	return ""
}

// stampMinus moves a MySQL stamp back by d ("" when it is not a time).
func (s *Store) stampMinus(stamp string, d time.Duration) string {
	t, err := time.Parse("2006-01-02 15:04:05.999999999", stamp)
	if err != nil {
		return ""
	}
	return t.Add(-d).Format("2006-01-02 15:04:05.000000")
}

// DeckStampsNow reads the newest stamps (two index look-ups).
func (s *Store) DeckStampsNow(ctx context.Context) (DeckStamps, error) {
	var u, p any
	if err := s.db.QueryRowContext(ctx,
		"SELECT (SELECT MAX(updated_at) FROM users), (SELECT MAX(updated_at) FROM profiles)").Scan(&u, &p); err != nil {
		return DeckStamps{}, fmt.Errorf("store: deck stamps: %w", classify(err))
	}
	return DeckStamps{Users: stampText(u), Profiles: stampText(p)}, nil
}

// DeckChanged returns the ids of users whose row or profile changed after
// since (and, with overlap, on MySQL, in the last overlap of the database's
// clock: transactions that committed late with an older stamp), and the
// newest stamps seen.
func (s *Store) DeckChanged(ctx context.Context, since DeckStamps, overlap time.Duration) ([]int64, DeckStamps, error) {
	seen := map[int64]bool{}
	var ids []int64
	next := since
	back := ""
	if overlap > 0 && s.stampsAreTimes() {
		// MySQL stamps are times, and a transaction can commit after a later
		// one: a poll also reads again what was written in the last overlap
		// of the database's clock. (SQLite stamps are a sequence of its one
		// writer: they show in order.)
		var dbNow any
		if err := s.db.QueryRowContext(ctx, dbNowSQL).Scan(&dbNow); err != nil {
			return nil, since, fmt.Errorf("store: deck changes: %w", classify(err))
		}
		back = s.stampMinus(stampText(dbNow), overlap)
	}
	for _, t := range []struct {
		query string
		from  string
		to    *string
	}{
		{"SELECT id, updated_at FROM users WHERE updated_at ", since.Users, &next.Users},
		{"SELECT user_id, updated_at FROM profiles WHERE updated_at ", since.Profiles, &next.Profiles},
	} {
		cond, arg := "> ?", t.from
		if back != "" && back <= t.from {
			cond, arg = ">= ?", back
		}
		rows, err := s.db.QueryContext(ctx, t.query+cond, arg)
		if err != nil {
			return nil, since, fmt.Errorf("store: deck changes: %w", classify(err))
		}
		for rows.Next() {
			var id int64
			var at any
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return nil, since, fmt.Errorf("store: deck changes: %w", classify(err))
			}
			if st := stampText(at); st > *t.to {
				*t.to = st
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, since, fmt.Errorf("store: deck changes: %w", classify(err))
		}
	}
	return ids, next, nil
}

// DeckCandidates reads the users among ids that may be in viewer's deck
// (shown, not blocked either way), in one statement.
func (s *Store) DeckCandidates(ctx context.Context, viewer int64, ids []int64) (map[int64]DeckCandidate, error) {
	out := make(map[int64]DeckCandidate, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []DeckCandidate
	err := s.db.NewRaw("SELECT u.id, u.nickname, u.gender, u.birthday, u.city, u.cell_lat, u.cell_lng, u.avatar, "+
		"COALESCE(p.only_matched, 1) AS only_matched "+
		"FROM users AS u LEFT JOIN profiles AS p ON p.user_id = u.id WHERE u.id IN (?) AND "+deckShownSQL("u")+
		" AND "+notBlockedSQL(strconv.FormatInt(viewer, 10), "u.id"),
		bun.In(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: deck candidates of %d: %w", viewer, classify(err))
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// DeckExcluded returns which of ids viewer's decks leave out (swiped,
// matched or blocked: deckExclusionsSQL): primary-key probes, all in the
// viewer's part of the keys, so the cost does not grow with the viewer's
// history.
func (s *Store) DeckExcluded(ctx context.Context, viewer int64, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var got []int64
	err := s.db.NewRaw(s.deckExclusionsSQL(true),
		viewer, bun.In(ids), viewer, bun.In(ids), viewer, bun.In(ids), viewer, bun.In(ids), viewer, bun.In(ids)).Scan(ctx, &got)
	if err != nil {
		return nil, fmt.Errorf("store: deck exclusions of %d: %w", viewer, classify(err))
	}
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// CardFact is what decides a Card of a user beyond the user's row
// (model.CardFact).
type CardFact = model.CardFact

// CardFacts reads the facts of the existing users among ids for viewer (0:
// anonymous), in one statement whatever the number of ids: the matched and
// superliked flags are primary-key probes.
func (s *Store) CardFacts(ctx context.Context, viewer int64, ids []int64) (map[int64]CardFact, error) {
	out := make(map[int64]CardFact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []CardFact
	err := s.db.NewRaw("SELECT u.id, COALESCE(p.only_matched, 1) AS only_matched, "+
		"(EXISTS (SELECT 1 FROM matches AS m WHERE m.user_a = ? AND m.user_b = u.id) OR "+
		"EXISTS (SELECT 1 FROM matches AS m WHERE m.user_b = ? AND m.user_a = u.id)) AS matched, "+
		"EXISTS (SELECT 1 FROM swipes AS s WHERE s.swiper_id = u.id AND s.swiped_id = ? AND s.action = ?) AS superliked_me "+
		"FROM users AS u LEFT JOIN profiles AS p ON p.user_id = u.id WHERE u.id IN (?) AND "+shownSQL("u")+
		" AND "+notBlockedSQL(strconv.FormatInt(viewer, 10), "u.id"),
		viewer, viewer, viewer, ActionSuperlike, bun.In(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: card facts for %d: %w", viewer, classify(err))
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
