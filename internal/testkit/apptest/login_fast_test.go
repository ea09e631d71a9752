package apptest_test

import (
	"context"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

type loginAnswer struct {
	Token   string `json:"token"`
	Created bool   `json:"created"`
	User    struct {
		ID    int64  `json:"id"`
		Phone string `json:"phone"`
		VIP   struct {
			Quotas struct {
				LikesLeftToday *int `json:"likes_left_today"`
			} `json:"quotas"`
		} `json:"vip"`
	} `json:"user"`
}

func loginAs(t *testing.T, e *apptest.Env, phone string) loginAnswer {
	t.Helper()
	r := ctLoginRaw(e, phone, e.RequestCode(phone))
	ctExpect(t, r, 200, 0)
	var a loginAnswer
	r.Decode(t, &a)
	e.Clock.Advance(61 * time.Second) // the next code of this phone at once
	return a
}

func meOf(t *testing.T, e *apptest.Env, token string) (int64, string) {
	t.Helper()
	me := ctObj(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: token}))
	id, _ := me["id"].(float64)
	phone, _ := me["phone"].(string)
	return int64(id), phone
}

// The server remembers phone → user id; when that goes stale behind its
// back (here a phone changed in the database, and the user cache
// invalidated as every writer does), a login of the old phone never opens
// a session of the user it used to belong to.
func TestLoginRememberedPhoneGoneStale(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := context.Background()
	first := loginAs(t, e, "13812345678")
	again := loginAs(t, e, "13812345678") // remembered now
	if again.User.ID != first.User.ID || again.Created {
		t.Fatalf("second login: user %d created %v, first %d", again.User.ID, again.Created, first.User.ID)
	}
	a := first.User.ID
	if _, err := e.DB().NewUpdate().Table("users").Set("phone = ?", "+8613812349999").
		Where("id = ?", a).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.App.InvalidateUserCache(ctx, a); err != nil {
		t.Fatal(err)
	}
	got := loginAs(t, e, "13812345678")
	if got.User.ID == a || !got.Created || got.User.Phone != "+8613812345678" {
		t.Fatalf("login of the old phone: user %d (%s) created %v; must not be user %d", got.User.ID, got.User.Phone, got.Created, a)
	}
	if id, phone := meOf(t, e, got.Token); id != got.User.ID || phone != "+8613812345678" {
		t.Fatalf("its session is of user %d (%s), want %d", id, phone, got.User.ID)
	}
	moved := loginAs(t, e, "13812349999")
	if moved.User.ID != a || moved.Created {
		t.Fatalf("login of the new phone: user %d created %v, want %d", moved.User.ID, moved.Created, a)
	}
	if id, _ := meOf(t, e, first.Token); id != a {
		t.Fatalf("the first session is of user %d now, want %d", id, a)
	}
}

// Quota usage in the login's Me is read, not cached: a like committed
// just before a login shows in it.
func TestLoginShowsLikesCommittedBefore(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	liker := loginAs(t, e, "13812340001")
	var targets []int64
	for _, p := range []string{"13812340002", "13812340003", "13812340004"} {
		targets = append(targets, loginAs(t, e, p).User.ID)
	}
	for i, id := range targets {
		r := e.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: liker.Token,
			JSON: map[string]any{"user_id": id, "action": "like"}})
		ctExpect(t, r, 200, 0)
		got := loginAs(t, e, "13812340001")
		if l := got.User.VIP.Quotas.LikesLeftToday; l == nil || *l != 100-(i+1) {
			t.Fatalf("login after %d likes: likes_left_today %v, want %d", i+1, deref(l), 100-(i+1))
		}
	}
}

// deref shows what an optional number holds ("<nil>" when nothing).
func deref(p *int) any {
	if p == nil {
		return "<nil>"
	}
	return *p
}
