package topology_test

import (
	"bytes"
	"compress/gzip"
	"image"
	"image/color"
	_ "image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

type me struct {
	ID     int64  `json:"id"`
	Phone  string `json:"phone"`
	City   string `json:"city"`
	Avatar string `json:"avatar"`
	Gender string `json:"gender"`
}

type card struct {
	ID int64 `json:"id"`
}

type swipeAnswer struct {
	Matched bool `json:"matched"`
	Match   *struct {
		User card `json:"user"`
	} `json:"match"`
}

type matchesAnswer struct {
	Total   int `json:"total"`
	Matches []struct {
		User card `json:"user"`
	} `json:"matches"`
}

// pngImage encodes a w×h image; noisy images compress badly, so they make
// large, slow uploads.
func pngImage(w, h int, noisy bool) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(x), uint8(y), 128, 255}
			if noisy {
				c = color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func multipartBody(field string, data []byte) (io.Reader, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile(field, "image.png")
	_, _ = fw.Write(data)
	_ = mw.Close()
	return &b, mw.FormDataContentType()
}

var seededRange = regexp.MustCompile(`seeded users (\d+)-(\d+)`)

// seedUsers adds n demo users with `swiper seed` and returns their id range.
func (c *cluster) seedUsers(t testing.TB, n int, seed int, extra ...string) (first, last int64) {
	t.Helper()
	args := append([]string{"seed", "--users", strconv.Itoa(n), "--random-seed", strconv.Itoa(seed)}, extra...)
	out, err := c.swiperCmd(args...)
	if err != nil {
		t.Fatalf("swiper seed: %v\n%s", err, out)
	}
	m := seededRange.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("swiper seed printed no id range:\n%s", out)
	}
	first, _ = strconv.ParseInt(m[1], 10, 64)
	last, _ = strconv.ParseInt(m[2], 10, 64)
	return first, last
}

// The whole user journey through nginx: login via the SMS sink, profile,
// avatar served by nginx, swipes landing on both replicas, a match seen by
// both users, a VIP grant and a rewind.
func TestJourneyThroughNginx(t *testing.T) {
	alice, bob := c.newClient(), c.newClient()
	alicePhone, bobPhone := c.nextPhone(), c.nextPhone()
	aliceID := c.login(t, alice, alicePhone)
	bobID := c.login(t, bob, bobPhone)

	// Profile: both in 上海, she is female and looks for men, he the opposite.
	m := decode[me](t, alice.json("PATCH", c.url("/api/v1/users/me"), map[string]any{
		"nickname": "Alice", "gender": "female", "birthday": "1995-05-05", "city": "上海"}))
	if m.City != "上海" || m.Gender != "female" {
		t.Fatalf("PATCH /users/me: %+v", m)
	}
	decode[me](t, bob.json("PATCH", c.url("/api/v1/users/me"), map[string]any{
		"nickname": "Bob", "gender": "male", "birthday": "1993-03-03", "city": "上海"}))
	prof := decode[map[string]any](t, alice.json("PATCH", c.url("/api/v1/users/me/profile"), map[string]any{"dating_gender": "male"}))
	if prof["dating_gender"] != "male" || prof["dating_city"] != "上海" {
		t.Fatalf("alice's profile: %v", prof)
	}

	// Avatar: uploaded through nginx, then served by nginx itself from the
	// media dir (no X-Request-ID: the replicas set one on every answer).
	body, ct := multipartBody("avatar", pngImage(320, 240, false))
	av := decode[struct {
		Avatar string `json:"avatar"`
	}](t, alice.do("PUT", c.url("/api/v1/users/me/avatar"), body, ct))
	if !strings.HasPrefix(av.Avatar, "/media/avatars/") {
		t.Fatalf("avatar URL %q is not local", av.Avatar)
	}
	img := alice.do("GET", c.url(av.Avatar), nil, "")
	if img.status != 200 || !strings.HasPrefix(img.header.Get("Content-Type"), "image/") {
		t.Fatalf("GET %s through nginx: %s", av.Avatar, img)
	}
	if img.header.Get("X-Request-ID") != "" || img.header.Get("Server") != "nginx" || !strings.Contains(img.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("avatar not served by nginx: headers %v", img.header)
	}
	if _, _, err := image.Decode(bytes.NewReader(img.body)); err != nil {
		t.Fatalf("avatar served by nginx does not decode: %v", err)
	}

	// gzip on JSON; client body limit answers the API's 413 4002 in JSON.
	gz := alice.do("GET", c.url("/api/v1/openapi.json"), nil, "", "Accept-Encoding", "gzip")
	if gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("openapi.json not gzipped by nginx: %v", gz.header)
	}
	if zr, err := gzip.NewReader(bytes.NewReader(gz.body)); err != nil {
		t.Fatalf("gzip body: %v", err)
	} else if _, err := io.ReadAll(zr); err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	big, bigCT := multipartBody("avatar", bytes.Repeat([]byte{0xff}, 10<<20))
	if r := alice.do("PUT", c.url("/api/v1/users/me/avatar"), big, bigCT); r.status != 413 || r.code != 4002 {
		t.Fatalf("10 MiB upload: want 413 4002, got %s", r)
	}
	if r := alice.do("GET", c.url("/metrics"), nil, ""); r.status != 403 {
		t.Fatalf("/metrics through nginx: want 403, got %s", r)
	}

	// She sees him in her deck (same city, mutual gender and age fit).
	deck := decode[[]card](t, alice.json("GET", c.url("/api/v1/recommendations?limit=50"), nil))
	found := false
	for _, cd := range deck {
		found = found || cd.ID == bobID
	}
	if !found {
		t.Fatalf("bob (%d) not in alice's deck %v", bobID, deck)
	}

	// Swipes: alice dislikes a few seeded users, then likes bob; bob likes
	// her back → one match, seen by both, whichever replica answers.
	first, last := c.seedUsers(t, 30, 7)
	before := []int{c.metric(t, 0, "POST /api/v1/swipes"), c.metric(t, 1, "POST /api/v1/swipes")}
	for id := first; id < first+10; id++ {
		r := alice.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": id, "action": "dislike"})
		if r.status != 200 {
			t.Fatalf("dislike %d: %s", id, r)
		}
	}
	if a := decode[swipeAnswer](t, alice.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": bobID, "action": "like"})); a.Matched {
		t.Fatal("a one-sided like matched")
	}
	a := decode[swipeAnswer](t, bob.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": aliceID, "action": "like"}))
	if !a.Matched || a.Match == nil || a.Match.User.ID != aliceID {
		t.Fatalf("mutual like did not match: %+v", a)
	}
	after := []int{c.metric(t, 0, "POST /api/v1/swipes"), c.metric(t, 1, "POST /api/v1/swipes")}
	if after[0] == before[0] || after[1] == before[1] {
		t.Fatalf("swipes did not land on both replicas: replica1 %d→%d, replica2 %d→%d", before[0], after[0], before[1], after[1])
	}
	t.Logf("12 swipes through nginx: replica1 took %d, replica2 %d", after[0]-before[0], after[1]-before[1])
	for i := 0; i < 4; i++ { // several reads, so both replicas answer
		for _, u := range []struct {
			cl    *client
			other int64
		}{{alice, bobID}, {bob, aliceID}} {
			ms := decode[matchesAnswer](t, u.cl.json("GET", c.url("/api/v1/matches"), nil))
			if ms.Total != 1 || len(ms.Matches) != 1 || ms.Matches[0].User.ID != u.other {
				t.Fatalf("matches: %+v", ms)
			}
		}
	}

	// Rewind needs VIP level 2: granted by the operator's CLI.
	if r := alice.json("DELETE", c.url("/api/v1/swipes/latest"), nil); r.status != 403 || r.code != 3001 {
		t.Fatalf("rewind without VIP: want 403 3001, got %s", r)
	}
	if out, err := c.swiperCmd("vip", "grant", "--phone", alicePhone, "--level", "2", "--days", "30"); err != nil {
		t.Fatalf("vip grant: %v\n%s", err, out)
	}
	target := last
	decode[swipeAnswer](t, alice.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": target, "action": "like"}))
	rw := decode[struct {
		User   card   `json:"user"`
		Action string `json:"action"`
	}](t, alice.json("DELETE", c.url("/api/v1/swipes/latest"), nil))
	if rw.User.ID != target || rw.Action != "like" {
		t.Fatalf("rewind undid %+v, want like on %d", rw, target)
	}
	var n int
	if err := c.db.QueryRow("SELECT COUNT(*) FROM swipes WHERE swiper_id = ? AND swiped_id = ?", aliceID, target).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rewound swipe still stored (%d rows, %v)", n, err)
	}
	// The rewind removed only the latest swipe: the match stands.
	ms := decode[matchesAnswer](t, bob.json("GET", c.url("/api/v1/matches"), nil))
	if ms.Total != 1 {
		t.Fatalf("match lost after an unrelated rewind: %+v", ms)
	}
	checkInvariants(t, "after the journey")
}

// The per-IP code limit counts the real client address that nginx
// forwards, not nginx's own 127.0.0.1, and a client cannot reset it by
// sending its own X-Forwarded-For.
func TestPerIPCodeLimitUsesClientAddress(t *testing.T) {
	x, y := c.newClient(), c.newClient()
	const limit = 5 // SWIPER_OTP_IP_LIMIT of the cluster
	for i := 0; i < limit; i++ {
		if r := x.json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": c.nextPhone()}); r.status != 200 {
			t.Fatalf("code %d from %s: %s", i+1, x.ip, r)
		}
	}
	r := x.json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": c.nextPhone()})
	if r.status != 429 || r.code != 1006 || r.header.Get("Retry-After") == "" {
		t.Fatalf("code %d from %s: want 429 1006 with Retry-After, got %s", limit+1, x.ip, r)
	}
	for _, spoof := range []string{"10.1.2.3", "127.0.0.1", "10.1.2.3, 10.4.5.6"} {
		r = x.json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": c.nextPhone()}, "X-Forwarded-For", spoof)
		if r.status != 429 || r.code != 1006 {
			t.Fatalf("spoofed X-Forwarded-For %q from %s bypassed the IP limit: %s", spoof, x.ip, r)
		}
	}
	if r := y.json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": c.nextPhone()}); r.status != 200 {
		t.Fatalf("another client (%s) is limited too — the limit does not see client addresses: %s", y.ip, r)
	}
}
