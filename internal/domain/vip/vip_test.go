package vip

import (
	"testing"
	"time"
)

func TestEffective(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Second)
	cases := []struct {
		level int
		exp   *time.Time
		want  int
	}{
		{3, &later, 3}, {3, &earlier, 0}, {3, &now, 0}, {2, nil, 0}, {0, &later, 0}, {7, &later, 0}, {-1, &later, 0},
	}
	for _, c := range cases {
		if got := Effective(c.level, c.exp, now); got != c.want {
			t.Errorf("Effective(%d, %v) = %d, want %d", c.level, c.exp, got, c.want)
		}
	}
}

func TestHas(t *testing.T) {
	want := map[int][]string{
		0: {},
		1: {PermVIPFlag, PermSuperlike},
		2: {PermVIPFlag, PermSuperlike, PermRewind},
		3: {PermVIPFlag, PermSuperlike, PermRewind, PermWhoLikedMe, PermUnlimitedLike, PermAnyLocation},
	}
	all := want[3]
	for level, perms := range want {
		for _, p := range all {
			in := false
			for _, q := range perms {
				in = in || q == p
			}
			if Has(level, p) != in {
				t.Errorf("Has(%d, %s) = %v, want %v", level, p, !in, in)
			}
		}
	}
	if Has(4, PermSuperlike) {
		t.Error("level 4 must have nothing")
	}
}
