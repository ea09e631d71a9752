package apptest_test

import (
	"testing"

	"github.com/swiper-social/swiper/internal/apptest"
)

func TestSmoke(t *testing.T) {
	e := apptest.New(t)
	tok := e.Login("13812345678")
	r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/users/me", Token: tok})
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r = e.Do(apptest.Request{Method: "GET", Path: "/api/v1/users/2", Token: tok})
	if r.Code != 1003 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
