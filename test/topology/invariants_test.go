package topology_test

import (
	"context"
	"fmt"
	"testing"
)

// checkInvariants is the invariant checker of security.md §3.2, on the
// cluster's database and Redis: I1 unique swipes, I3 match ⇔ mutual like
// (one row per pair), I4 quotas ≤ limits and counters = rows, I6 every
// session key has a TTL. It fails the test with every violation found.
func checkInvariants(t testing.TB, when string) {
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
	count("I3 mutual likes without a match", `SELECT COUNT(*) FROM swipes s1 JOIN swipes s2
		ON s2.swiper_id = s1.swiped_id AND s2.swiped_id = s1.swiper_id
		WHERE s1.swiper_id < s1.swiped_id AND s1.action IN (1,2) AND s2.action IN (1,2)
		AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.user_a = s1.swiper_id AND m.user_b = s1.swiped_id)`)
	count("I3 unordered match rows", `SELECT COUNT(*) FROM matches WHERE user_a >= user_b`)
	// I4: likes per local day within the free limit for users without
	// unlimited_like (VIP 3), and rewinds ≤ 3; the counters equal the rows
	// (Asia/Shanghai is UTC+8 all year).
	count("I4 likes over the daily limit", `SELECT COUNT(*) FROM daily_quotas q JOIN users u ON u.id = q.user_id
		WHERE q.likes > ? AND NOT (u.vip_level >= 3 AND u.vip_expires_at > UTC_TIMESTAMP(6))`, c.likeLimit)
	count("I4 rewinds over the daily limit", `SELECT COUNT(*) FROM daily_quotas WHERE rewinds > 3`)
	count("I4 like counters ≠ live like rows", `SELECT COUNT(*) FROM (
		SELECT q.user_id FROM daily_quotas q LEFT JOIN (
			SELECT swiper_id, DATE_FORMAT(CONVERT_TZ(created_at, '+00:00', '+08:00'), '%Y-%m-%d') AS day, COUNT(*) AS n
			FROM swipes WHERE action IN (1,2) GROUP BY swiper_id, day) s
		ON s.swiper_id = q.user_id AND s.day = q.day
		WHERE q.likes <> COALESCE(s.n, 0)) d`)
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
