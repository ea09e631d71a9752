package topology_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// checkInvariants is the invariant checker of security.md §3.2, on the
// cluster's database and Redis: I1 unique swipes, I3 match ⇔ mutual like
// (one row per pair, blocked pairs aside), I4 quotas ≤ limits and
// counters = rows (≥ once an account was deleted), I6 every
// session key has a TTL. It fails the test with every violation found.
//
// The safety invariants (S1-S3) are checked too; S3 samples the decks of
// the given viewers and of the checker's own observers.
func checkInvariants(t testing.TB, when string, viewers ...*client) {
	t.Helper()
	var violations []string
	count := func(name, q string, args ...any) {
		var n int
		if err := c.db.QueryRow(q, args...).Scan(&n); err != nil {
			violations = append(violations, fmt.Sprintf("%s: query failed: %v", name, err))
			return
		}
		if n != 0 {
			violations = append(violations, fmt.Sprintf("%s: %d", name, n))
		}
	}
	// I1: at most one swipe per ordered pair (the primary key says so; check).
	count("I1 duplicate swipes", `SELECT COUNT(*) FROM (SELECT swiper_id, swiped_id FROM swipes GROUP BY swiper_id, swiped_id HAVING COUNT(*) > 1) d`)
	// I3: every match has both likes; every mutual like has a match; pairs are ordered.
	count("I3 matches without a mutual like", `SELECT COUNT(*) FROM matches m WHERE
		NOT EXISTS (SELECT 1 FROM swipes s WHERE s.swiper_id = m.user_a AND s.swiped_id = m.user_b AND s.action IN (1,2))
		OR NOT EXISTS (SELECT 1 FROM swipes s WHERE s.swiper_id = m.user_b AND s.swiped_id = m.user_a AND s.action IN (1,2))`)
	// A block removes the pair's match and keeps its swipes (API.md §3).
	count("I3 mutual likes without a match", `SELECT COUNT(*) FROM swipes s1 JOIN swipes s2
		ON s2.swiper_id = s1.swiped_id AND s2.swiped_id = s1.swiper_id
		WHERE s1.swiper_id < s1.swiped_id AND s1.action IN (1,2) AND s2.action IN (1,2)
		AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.user_a = s1.swiper_id AND m.user_b = s1.swiped_id)
		AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = s1.swiper_id AND b.blocked_id = s1.swiped_id)
			OR (b.blocker_id = s1.swiped_id AND b.blocked_id = s1.swiper_id))`)
	count("I3 unordered match rows", `SELECT COUNT(*) FROM matches WHERE user_a >= user_b`)
	// I4: likes per local day within the free limit for users without
	// unlimited_like (VIP 3), and rewinds ≤ 3; the counters equal the rows
	// (Asia/Shanghai is UTC+8 all year).
	count("I4 likes over the daily limit", `SELECT COUNT(*) FROM daily_quotas q JOIN users u ON u.id = q.user_id
		WHERE q.likes > ? AND NOT (u.vip_level >= 3 AND u.vip_expires_at > UTC_TIMESTAMP(6))`, c.likeLimit)
	count("I4 rewinds over the daily limit", `SELECT COUNT(*) FROM daily_quotas WHERE rewinds > 3`)
	// A deleted account takes the likes it received with it, not the quota
	// they used: once an account is deleted, counters may exceed the rows
	// (never the other way round).
	var deletions int
	if err := c.db.QueryRow("SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL").Scan(&deletions); err != nil {
		violations = append(violations, "I4 deletions: "+err.Error())
	}
	likeRows := `SELECT COUNT(*) FROM (
		SELECT q.user_id FROM daily_quotas q LEFT JOIN (
			SELECT swiper_id, DATE_FORMAT(CONVERT_TZ(created_at, '+00:00', '+08:00'), '%Y-%m-%d') AS day, COUNT(*) AS n
			FROM swipes WHERE action IN (1,2) GROUP BY swiper_id, day) s
		ON s.swiper_id = q.user_id AND s.day = q.day
		WHERE q.likes `
	count("I4 like counters < live like rows", likeRows+`< COALESCE(s.n, 0)) d`)
	if deletions == 0 {
		count("I4 like counters > live like rows", likeRows+`> COALESCE(s.n, 0)) d`)
	}
	// Safety (API.md §3): nothing refers to a deleted account (a tombstone
	// row or no row at all); no blocked pair is matched; nobody banned,
	// report-hidden or deleted is in a deck (a sample of decks, through the
	// API, on both replicas).
	live := "(SELECT id FROM users WHERE deleted_at IS NULL)"
	for _, r := range refsToUsers {
		count(fmt.Sprintf("S1 %s.%s rows of a deleted user", r.table, r.col),
			"SELECT COUNT(*) FROM "+r.table+" WHERE "+r.col+" NOT IN "+live)
	}
	count("S2 blocked pairs matched", `SELECT COUNT(*) FROM matches m WHERE EXISTS (SELECT 1 FROM blocks b WHERE
		(b.blocker_id = m.user_a AND b.blocked_id = m.user_b) OR (b.blocker_id = m.user_b AND b.blocked_id = m.user_a))`)
	violations = append(violations, hiddenInDecks(t, viewers)...)
	// I6: every session key expires.
	ctx := context.Background()
	iter := c.rdb.Scan(ctx, 0, "sess:*", 1000).Iterator()
	sessions, noTTL := 0, 0
	for iter.Next(ctx) {
		sessions++
		if ttl, err := c.rdb.PTTL(ctx, iter.Val()).Result(); err == nil && ttl < 0 {
			noTTL++
		}
	}
	if err := iter.Err(); err != nil {
		violations = append(violations, "I6 scan: "+err.Error())
	}
	if noTTL > 0 {
		violations = append(violations, fmt.Sprintf("I6 sessions without TTL: %d of %d", noTTL, sessions))
	}
	var swipes, matches int
	_ = c.db.QueryRow("SELECT COUNT(*) FROM swipes").Scan(&swipes)
	_ = c.db.QueryRow("SELECT COUNT(*) FROM matches").Scan(&matches)
	if len(violations) > 0 {
		t.Errorf("invariants %s: %d swipes, %d matches, %d sessions; VIOLATED: %v", when, swipes, matches, sessions, violations)
		return
	}
	t.Logf("invariants %s: OK (%d swipes, %d matches, %d sessions)", when, swipes, matches, sessions)
}

// refsToUsers are the columns that refer to a user (migrations 00001-00012).
var refsToUsers = []struct{ table, col string }{
	{"profiles", "user_id"}, {"photos", "user_id"}, {"swipes", "swiper_id"}, {"swipes", "swiped_id"},
	{"matches", "user_a"}, {"matches", "user_b"}, {"like_pairs", "user_a"}, {"like_pairs", "user_b"},
	{"daily_quotas", "user_id"}, {"scores", "user_id"}, {"blocks", "blocker_id"}, {"blocks", "blocked_id"},
	{"reports", "reporter_id"}, {"reports", "reported_id"}, {"messages", "user_a"}, {"messages", "user_b"},
	{"messages", "sender_id"},
}

// observers are the invariant checker's own viewers (S3): a woman and a
// man who date anyone of any age, moved to the city of the users who must
// not be seen, so that those would be in their decks if they were shown.
var observers struct {
	sync.Mutex
	list []*client
}

func deckObservers(t testing.TB) []*client {
	t.Helper()
	observers.Lock()
	defer observers.Unlock()
	if observers.list == nil {
		for _, g := range []string{"female", "male"} {
			cl := c.newClient()
			c.login(t, cl, c.nextPhone())
			decode[me](t, cl.json("PATCH", c.url("/api/v1/users/me"), map[string]any{
				"nickname": "Observer", "gender": g, "birthday": "1990-01-01", "city": "观察"}))
			decode[map[string]any](t, cl.json("PATCH", c.url("/api/v1/users/me/profile"), map[string]any{
				"dating_gender": "any", "min_dating_age": 18, "max_dating_age": 100}))
			observers.list = append(observers.list, cl)
		}
	}
	return observers.list
}

// hiddenInDecks (S3) returns a violation for every banned, report-hidden or
// deleted user found in a deck of viewers or of the observers (moved in
// turn to up to three of those users' cities), read from each running
// replica directly.
func hiddenInDecks(t testing.TB, viewers []*client) []string {
	t.Helper()
	rows, err := c.db.Query(`SELECT id, city FROM users WHERE banned_at IS NOT NULL OR hidden OR deleted_at IS NOT NULL ORDER BY id DESC`)
	if err != nil {
		return []string{"S3 query failed: " + err.Error()}
	}
	unseen := map[int64]bool{}
	var cities []string
	for rows.Next() {
		var id int64
		var city string
		if err := rows.Scan(&id, &city); err != nil {
			rows.Close()
			return []string{"S3 scan failed: " + err.Error()}
		}
		unseen[id] = true
		if city != "" && len(cities) < 3 && !slices.Contains(cities, city) {
			cities = append(cities, city)
		}
	}
	rows.Close()
	if len(unseen) == 0 {
		return nil
	}
	out, decks := inDecks(t, unseen, cities, viewers)
	t.Logf("S3: %d decks sampled against %d banned, hidden or deleted users", decks, len(unseen))
	return out
}

// inDecks returns a violation for every user of unseen found in a deck of
// viewers or of the observers moved to each of cities, and how many decks
// it read.
func inDecks(t testing.TB, unseen map[int64]bool, cities []string, viewers []*client) (out []string, decks int) {
	t.Helper()
	look := func(who string, cl *client) {
		for i := range c.replicas {
			if !c.replicas[i].running() {
				continue
			}
			r := cl.json("GET", c.replicaURL(i, "/api/v1/recommendations?limit=50"), nil)
			if r.status == 401 { // a viewer that was banned or deleted itself
				continue
			}
			var deck []card
			if r.err != nil || r.status != 200 || json.Unmarshal(r.data, &deck) != nil {
				out = append(out, fmt.Sprintf("S3 deck of %s on replica%d: %s", who, i+1, r))
				continue
			}
			decks++
			for _, cd := range deck {
				if unseen[cd.ID] {
					out = append(out, fmt.Sprintf("S3 banned, hidden or deleted user %d in the deck of %s on replica%d", cd.ID, who, i+1))
				}
			}
		}
	}
	for i, v := range viewers {
		look(fmt.Sprintf("viewer %d", i), v)
	}
	obs := deckObservers(t)
	for _, city := range cities {
		for i, o := range obs {
			if r := o.json("PATCH", c.url("/api/v1/users/me"), map[string]any{"city": city}); r.status != 200 {
				out = append(out, fmt.Sprintf("S3 moving observer %d to %s: %s", i, city, r))
				continue
			}
			look(fmt.Sprintf("observer %d in %s", i, city), o)
		}
	}
	return out, decks
}
