package topology_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// safetyUser is a logged-in user of the safety tests.
type safetyUser struct {
	cl    *client
	id    int64
	phone string
}

// newSafetyUser logs a new user in through nginx and sets their profile:
// gender, whom they date (any age) and city.
func newSafetyUser(t testing.TB, gender, dating, city string) safetyUser {
	t.Helper()
	u := safetyUser{cl: c.newClient(), phone: c.nextPhone()}
	u.id = c.login(t, u.cl, u.phone)
	decode[me](t, u.cl.json("PATCH", c.url("/api/v1/users/me"), map[string]any{
		"nickname": "S" + gender, "gender": gender, "birthday": "1994-04-04", "city": city}))
	decode[map[string]any](t, u.cl.json("PATCH", c.url("/api/v1/users/me/profile"), map[string]any{
		"dating_gender": dating, "min_dating_age": 18, "max_dating_age": 100}))
	return u
}

// uniqueCity is a city nobody else lives in, so that a deck holds only the
// test's own users.
func uniqueCity(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1_000_000_000)
}

// deckIDs returns the ids of the deck of cl read from replica i directly.
func deckIDs(t testing.TB, cl *client, i int) []int64 {
	t.Helper()
	var ids []int64
	for _, cd := range decode[[]card](t, cl.json("GET", c.replicaURL(i, "/api/v1/recommendations?limit=50"), nil)) {
		ids = append(ids, cd.ID)
	}
	return ids
}

// matchIDs and conversationIDs return the other users of cl's matches and
// conversations, read from replica i directly.
func matchIDs(t testing.TB, cl *client, i int) []int64 {
	t.Helper()
	var ids []int64
	for _, m := range decode[matchesAnswer](t, cl.json("GET", c.replicaURL(i, "/api/v1/matches?limit=100"), nil)).Matches {
		ids = append(ids, m.User.ID)
	}
	return ids
}

func conversationIDs(t testing.TB, cl *client, i int) []int64 {
	t.Helper()
	var ids []int64
	for _, cv := range decode[struct {
		Conversations []struct {
			User card `json:"user"`
		} `json:"conversations"`
	}](t, cl.json("GET", c.replicaURL(i, "/api/v1/conversations?limit=100"), nil)).Conversations {
		ids = append(ids, cv.User.ID)
	}
	return ids
}

type messagesAnswer struct {
	Messages []struct {
		ID   int64  `json:"id"`
		From int64  `json:"from"`
		Text string `json:"text"`
	} `json:"messages"`
}

func expect(t testing.TB, what string, r result, status, code int) {
	t.Helper()
	if r.err != nil || r.status != status || r.code != code {
		t.Fatalf("%s: want %d %d, got %s", what, status, code, r)
	}
}

// A ban run by the operator on the command line revokes at once a session
// in use on replica 1: the next request on either replica is 401 1010, the
// user's code requests and logins are 403 1013 and send no SMS, and the
// user vanishes from the others' matches, conversations and decks on both
// replicas. Unbanning brings the match and the conversation back with its
// messages (not the revoked session).
func TestSafetyBanAcrossReplicas(t *testing.T) {
	city := uniqueCity("封禁城")
	alice := newSafetyUser(t, "female", "male", city)
	carol := newSafetyUser(t, "female", "male", city)
	bob := newSafetyUser(t, "male", "female", city)

	// Alice and Bob match and talk; Carol has Bob in her deck, unswiped.
	decode[swipeAnswer](t, alice.cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": bob.id, "action": "like"}))
	if a := decode[swipeAnswer](t, bob.cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": alice.id, "action": "like"})); !a.Matched {
		t.Fatalf("mutual like did not match: %+v", a)
	}
	msgs := []string{"你好 Bob", "hi Alice"}
	decode[map[string]any](t, alice.cl.json("POST", c.url(fmt.Sprintf("/api/v1/conversations/%d/messages", bob.id)),
		map[string]any{"text": msgs[0], "client_id": "ban-a1"}))
	decode[map[string]any](t, bob.cl.json("POST", c.url(fmt.Sprintf("/api/v1/conversations/%d/messages", alice.id)),
		map[string]any{"text": msgs[1], "client_id": "ban-b1"}))
	for i := range c.replicas {
		if !slices.Contains(matchIDs(t, alice.cl, i), bob.id) || !slices.Contains(conversationIDs(t, alice.cl, i), bob.id) {
			t.Fatalf("replica%d: bob not in alice's matches and conversations before the ban", i+1)
		}
		if !slices.Contains(deckIDs(t, carol.cl, i), bob.id) {
			t.Fatalf("replica%d: bob (%d) not in carol's deck before the ban: the test would prove nothing", i+1, bob.id)
		}
	}

	// Bob's session is in use on replica 1: a request loop on it directly.
	type sample struct {
		start, end time.Time
		status     int
		code       int
	}
	var (
		mu      sync.Mutex
		samples []sample
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			r := bob.cl.json("GET", c.replicaURL(0, "/api/v1/users/me"), nil)
			mu.Lock()
			samples = append(samples, sample{r.start, r.end, r.status, r.code})
			mu.Unlock()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	codesBefore := len(smsCodes(c.worker, c.replicas[0], c.replicas[1])[maskOf(bob.phone)])

	out, err := c.swiperCmd("ban", "--phone", bob.phone, "--reason", "topology test")
	banned := time.Now()
	if err != nil {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("swiper ban: %v\n%s", err, out)
	}
	// The very next request, on each replica.
	for i := range c.replicas {
		expect(t, fmt.Sprintf("bob's next request on replica%d", i+1), bob.cl.json("GET", c.replicaURL(i, "/api/v1/users/me"), nil), 401, 1010)
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	okBefore, after := 0, 0
	for _, s := range samples {
		if s.end.Before(banned) && s.status == 200 {
			okBefore++
		}
		if s.start.After(banned) {
			after++
			if s.status != 401 || s.code != 1010 {
				t.Errorf("a request of the loop started %s after the ban answered %d %d", s.start.Sub(banned), s.status, s.code)
			}
		}
	}
	if okBefore == 0 || after == 0 {
		t.Fatalf("the request loop proves nothing: %d answers 200 before the ban, %d requests after", okBefore, after)
	}
	t.Logf("ban: %d requests of bob's loop on replica1 answered 200 before it, all %d after it 401 1010", okBefore, after)

	// Code requests and logins: 1013, no SMS.
	expect(t, "bob's code request", c.newClient().json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": bob.phone}), 403, 1013)
	expect(t, "bob's login", c.newClient().json("POST", c.url("/api/v1/sessions"), map[string]string{"phone": bob.phone, "code": "123456"}), 403, 1013)
	time.Sleep(1500 * time.Millisecond) // the worker would have sent it by now
	if n := len(smsCodes(c.worker, c.replicas[0], c.replicas[1])[maskOf(bob.phone)]); n != codesBefore {
		t.Fatalf("a banned user's code request sent an SMS: %d codes logged for %s, %d before", n, maskOf(bob.phone), codesBefore)
	}

	// Bob is gone for the others, on both replicas, at once.
	for i := range c.replicas {
		if slices.Contains(matchIDs(t, alice.cl, i), bob.id) {
			t.Errorf("replica%d: banned bob still in alice's matches", i+1)
		}
		if slices.Contains(conversationIDs(t, alice.cl, i), bob.id) {
			t.Errorf("replica%d: banned bob still in alice's conversations", i+1)
		}
		expect(t, fmt.Sprintf("replica%d: alice reads bob's messages", i+1),
			alice.cl.json("GET", c.replicaURL(i, fmt.Sprintf("/api/v1/conversations/%d/messages", bob.id)), nil), 404, 1003)
		if slices.Contains(deckIDs(t, carol.cl, i), bob.id) {
			t.Errorf("replica%d: banned bob still in carol's deck", i+1)
		}
	}
	checkInvariants(t, "after the ban", alice.cl, carol.cl)

	// Unban: the match, the conversation and its messages come back; the
	// revoked session does not.
	if out, err := c.swiperCmd("unban", "--phone", bob.phone); err != nil {
		t.Fatalf("swiper unban: %v\n%s", err, out)
	}
	for i := range c.replicas {
		if !slices.Contains(matchIDs(t, alice.cl, i), bob.id) || !slices.Contains(conversationIDs(t, alice.cl, i), bob.id) {
			t.Errorf("replica%d: bob not back in alice's matches and conversations after the unban", i+1)
		}
		ms := decode[messagesAnswer](t, alice.cl.json("GET", c.replicaURL(i, fmt.Sprintf("/api/v1/conversations/%d/messages", bob.id)), nil))
		var texts []string
		for _, m := range ms.Messages {
			texts = append(texts, m.Text)
		}
		if !slices.Equal(texts, []string{msgs[1], msgs[0]}) {
			t.Errorf("replica%d: messages after the unban %q, want %q", i+1, texts, []string{msgs[1], msgs[0]})
		}
		if !slices.Contains(deckIDs(t, carol.cl, i), bob.id) {
			t.Errorf("replica%d: unbanned bob not back in carol's deck", i+1)
		}
		expect(t, fmt.Sprintf("bob's revoked session on replica%d after the unban", i+1),
			bob.cl.json("GET", c.replicaURL(i, "/api/v1/users/me"), nil), 401, 1010)
	}
	if r := c.newClient().json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": bob.phone}); r.status == 403 {
		t.Fatalf("bob's code request after the unban: %s", r)
	}
	checkInvariants(t, "after the unban", alice.cl, carol.cl)
}

// Blocks, reports and account deletions through nginx while others swipe
// (each other, and seeded users): afterwards no blocked pair is matched,
// nothing refers to a deleted account, and nobody deleted or hidden by
// reports is in a deck.
func TestSafetyUnderLoad(t *testing.T) {
	city := uniqueCity("安全城")
	const perSide = 8
	var women, men []safetyUser
	for i := 0; i < perSide; i++ {
		women = append(women, newSafetyUser(t, "female", "male", city))
		men = append(men, newSafetyUser(t, "male", "female", city))
	}
	first, last := c.seedUsers(t, 200, 1313)
	// Three women report men[0]: from the threshold (3) on, hidden from decks.
	hidden := men[0]
	reporters := women[:3]
	// men[1..2] and women[7] delete their accounts mid-load; women[3..4]
	// block men (the ones they are likeliest to match), women[5..6] report one.
	deleters := []safetyUser{men[1], men[2], women[7]}

	allowed := map[[2]int]bool{ // status, code
		{200, 0}: true, {409, 2002}: true, {429, 2003}: true, {404, 1003}: true,
	}
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		failures []string
		swipes   atomic.Int64
		stop     atomic.Bool
		gone     sync.Map // id → true once deleted
	)
	fail := func(format string, args ...any) {
		errMu.Lock()
		defer errMu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	swiper := func(u safetyUser, others []safetyUser, seed uint64) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, 13))
		for !stop.Load() {
			if _, dead := gone.Load(u.id); dead {
				return
			}
			var target int64
			switch rng.IntN(3) {
			case 0:
				target = first + rng.Int64N(last-first+1)
			default:
				target = others[rng.IntN(len(others))].id
			}
			action := "like"
			if rng.IntN(4) == 0 {
				action = "dislike"
			}
			r := u.cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": target, "action": action})
			if _, dead := gone.Load(u.id); dead && r.status == 401 {
				return
			}
			if r.err != nil || !allowed[[2]int{r.status, r.code}] {
				fail("swipe %d→%d: %s", u.id, target, r)
			}
			swipes.Add(1)
			if rng.IntN(5) == 0 {
				if r := u.cl.json("GET", c.url("/api/v1/recommendations?limit=20"), nil); r.status != 200 && !(r.status == 401 && isGone(&gone, u.id)) {
					fail("deck of %d: %s", u.id, r)
				}
			}
		}
	}
	for i, w := range women {
		wg.Add(1)
		go swiper(w, men, uint64(i))
	}
	for i, m := range men {
		wg.Add(1)
		go swiper(m, women, uint64(100+i))
	}

	// The safety actions, spread over the load.
	time.Sleep(500 * time.Millisecond)
	type pair struct{ a, b int64 }
	var blocked []pair
	for i, w := range women[3:5] {
		for _, m := range men[3+2*i : 5+2*i] {
			expect(t, "block", w.cl.json("POST", c.url("/api/v1/blocks"), map[string]any{"user_id": m.id}), 200, 0)
			blocked = append(blocked, pair{w.id, m.id})
		}
	}
	for i, w := range women[5:7] {
		m := men[7-i]
		decode[struct {
			ID int64 `json:"id"`
		}](t, w.cl.json("POST", c.url("/api/v1/reports"), map[string]any{"user_id": m.id, "reason": "scam", "note": "load"}))
		blocked = append(blocked, pair{w.id, m.id})
	}
	var delWG sync.WaitGroup
	for _, d := range deleters {
		delWG.Add(1)
		go func() {
			defer delWG.Done()
			time.Sleep(time.Duration(rand.IntN(800)) * time.Millisecond)
			gone.Store(d.id, true)
			if r := d.cl.json("DELETE", c.url("/api/v1/users/me"), nil); r.status != 200 || r.code != 0 {
				fail("delete %d: %s", d.id, r)
			}
		}()
	}
	for _, r := range reporters {
		decode[struct {
			ID int64 `json:"id"`
		}](t, r.cl.json("POST", c.url("/api/v1/reports"), map[string]any{"user_id": hidden.id, "reason": "fake_profile"}))
		blocked = append(blocked, pair{r.id, hidden.id})
	}
	delWG.Wait()
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d swipes through nginx during %d blocks/reports and %d deletions", swipes.Load(), len(blocked), len(deleters))

	// What each action must have done.
	for _, p := range blocked {
		var n int
		a, b := min(p.a, p.b), max(p.a, p.b)
		if err := c.db.QueryRow("SELECT COUNT(*) FROM matches WHERE user_a = ? AND user_b = ?", a, b).Scan(&n); err != nil || n != 0 {
			t.Errorf("blocked pair %d-%d matched (%d rows, %v)", p.a, p.b, n, err)
		}
	}
	var isHidden bool
	if err := c.db.QueryRow("SELECT hidden FROM users WHERE id = ?", hidden.id).Scan(&isHidden); err != nil || !isHidden {
		t.Errorf("user %d reported by 3 users is not hidden (%v)", hidden.id, err)
	}
	for _, d := range deleters {
		expect(t, fmt.Sprintf("deleted user %d's session", d.id), d.cl.json("GET", c.url("/api/v1/users/me"), nil), 401, 1010)
	}
	// The other women, who date men in this city, see neither the hidden nor
	// the deleted men, on either replica.
	var viewers []*client
	for _, w := range women[:7] {
		viewers = append(viewers, w.cl)
		for i := range c.replicas {
			deck := deckIDs(t, w.cl, i)
			for _, id := range []int64{hidden.id, men[1].id, men[2].id} {
				if slices.Contains(deck, id) {
					t.Errorf("replica%d: user %d (hidden or deleted) in the deck of %d", i+1, id, w.id)
				}
			}
		}
	}
	// A positive control: the men who were not blocked, reported or
	// deleted and not swiped by a viewer are still seen by someone.
	seen := false
	for _, w := range women[:3] {
		for _, m := range men[3:] {
			seen = seen || slices.Contains(deckIDs(t, w.cl, 0), m.id)
		}
	}
	var unswiped int
	_ = c.db.QueryRow(fmt.Sprintf(`SELECT COUNT(*) FROM users u WHERE u.id IN (%d,%d,%d,%d,%d) AND NOT EXISTS
		(SELECT 1 FROM swipes s WHERE s.swiped_id = u.id AND s.swiper_id IN (%d,%d,%d))`,
		men[3].id, men[4].id, men[5].id, men[6].id, men[7].id, women[0].id, women[1].id, women[2].id)).Scan(&unswiped)
	if unswiped > 0 && !seen {
		t.Errorf("no visible man is in any deck of women 0-2: the deck checks above prove nothing")
	}
	checkInvariants(t, "after blocks, reports and deletions under load", viewers...)
}

func isGone(m *sync.Map, id int64) bool {
	_, ok := m.Load(id)
	return ok
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Logf(string, ...any) {}

// The invariant checker finds each safety violation: rows of a deleted
// account (S1) and a matched blocked pair (S2), written straight into the
// database behind the server's back, and finds none once they are undone;
// its deck sampling (S3) finds a user who must not be seen in the decks of
// a viewer and of its observers (a user really hidden, the server leaves
// out: TestSafetyUnderLoad).
func TestInvariantCheckerCatchesSafetyViolations(t *testing.T) {
	checkInvariants(t, "before the injected violations")
	if t.Failed() {
		t.FailNow()
	}
	city := uniqueCity("违规城")
	viewer := newSafetyUser(t, "female", "male", city)
	him := newSafetyUser(t, "male", "female", city)
	gone := newSafetyUser(t, "male", "female", city)
	if !slices.Contains(deckIDs(t, viewer.cl, 0), him.id) || !slices.Contains(deckIDs(t, viewer.cl, 1), him.id) {
		t.Fatalf("user %d not in the viewer's decks: the S3 check would prove nothing", him.id)
	}
	decode[swipeAnswer](t, viewer.cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": gone.id, "action": "like"}))
	if a := decode[swipeAnswer](t, gone.cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": viewer.id, "action": "like"})); !a.Matched {
		t.Fatal("no match")
	}
	expect(t, "delete", gone.cl.json("DELETE", c.url("/api/v1/users/me"), nil), 200, 0)
	pa, pb := min(viewer.id, him.id), max(viewer.id, him.id)
	now := time.Now().UTC()
	undo := []string{
		fmt.Sprintf("DELETE FROM scores WHERE user_id = %d", gone.id),
		fmt.Sprintf("DELETE FROM swipes WHERE swiper_id = %d AND swiped_id = %d", viewer.id, gone.id),
		fmt.Sprintf("DELETE FROM blocks WHERE blocker_id = %d AND blocked_id = %d", viewer.id, him.id),
		fmt.Sprintf("DELETE FROM swipes WHERE swiper_id IN (%d, %d) AND swiped_id IN (%d, %d)", viewer.id, him.id, viewer.id, him.id),
		fmt.Sprintf("DELETE FROM matches WHERE user_a = %d AND user_b = %d", pa, pb),
	}
	t.Cleanup(func() {
		for _, q := range undo {
			if _, err := c.db.Exec(q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	for _, q := range []struct {
		q    string
		args []any
	}{
		// S1: a score and a swipe (a dislike: no quota) of the deleted account.
		{"INSERT INTO scores (user_id, score, swipes) VALUES (?, 5, 1)", []any{gone.id}},
		{"INSERT INTO swipes (swiper_id, swiped_id, action, created_at) VALUES (?, ?, 3, ?)", []any{viewer.id, gone.id, now}},
		// S2: a match (without likes: I3 reports it too) and a block.
		{"INSERT INTO swipes (swiper_id, swiped_id, action, created_at) VALUES (?, ?, 3, ?), (?, ?, 3, ?)", []any{viewer.id, him.id, now, him.id, viewer.id, now}},
		{"INSERT INTO matches (user_a, user_b, matched_at) VALUES (?, ?, ?)", []any{pa, pb, now}},
		{"INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)", []any{viewer.id, him.id, now}},
	} {
		if _, err := c.db.Exec(q.q, q.args...); err != nil {
			t.Fatalf("%s: %v", q.q, err)
		}
	}
	rec := &recorder{TB: t}
	// The viewer's deck: the block hides him from her, so a second viewer
	// who has not blocked him looks too.
	other := newSafetyUser(t, "female", "male", city)
	checkInvariants(rec, "with injected violations", other.cl)
	got := fmt.Sprint(rec.errs)
	for _, want := range []string{
		"S1 scores.user_id rows of a deleted user: 1", "S1 swipes.swiped_id rows of a deleted user: 1",
		"S2 blocked pairs matched: 1",
	} {
		if !slices.ContainsFunc(rec.errs, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("the checker did not report %q; it reported %s", want, got)
		}
	}
	// S3's deck sampling: him, seen by other and by the observers moved to
	// his city, is reported when he must not be seen.
	s3, _ := inDecks(t, map[int64]bool{him.id: true}, []string{city}, []*client{other.cl})
	for _, want := range []string{
		fmt.Sprintf("S3 banned, hidden or deleted user %d in the deck of viewer 0 on replica1", him.id),
		fmt.Sprintf("S3 banned, hidden or deleted user %d in the deck of viewer 0 on replica2", him.id),
		fmt.Sprintf("S3 banned, hidden or deleted user %d in the deck of observer 0 in %s on replica1", him.id, city),
		fmt.Sprintf("S3 banned, hidden or deleted user %d in the deck of observer 0 in %s on replica2", him.id, city),
	} {
		if !slices.Contains(s3, want) {
			t.Errorf("the deck sampling did not report %q; it reported %q", want, s3)
		}
	}
	for _, q := range undo {
		if _, err := c.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	undo = nil
	checkInvariants(t, "after the injected violations were undone", other.cl)
}
