package config

import "testing"

// SWIPER_LOCATIONS_PER_HOUR and SWIPER_VIEWS_PER_10MIN: 10 and 300 by
// default, 0 (no limit) allowed, negative or not a number refused.
func TestLocationAndViewLimits(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.LocationsPerHour != 10 || c.ViewsPer10Min != 300 {
		t.Fatalf("defaults: %d, %d, %v; want 10, 300", c.LocationsPerHour, c.ViewsPer10Min, err)
	}
	c, err = Load(env(map[string]string{"SWIPER_LOCATIONS_PER_HOUR": "0", "SWIPER_VIEWS_PER_10MIN": " 50 "}))
	if err != nil || c.LocationsPerHour != 0 || c.ViewsPer10Min != 50 {
		t.Errorf("set: %d, %d, %v; want 0, 50", c.LocationsPerHour, c.ViewsPer10Min, err)
	}
	for _, name := range []string{"SWIPER_LOCATIONS_PER_HOUR", "SWIPER_VIEWS_PER_10MIN"} {
		for _, v := range []string{"-1", "many", "2.5"} {
			if _, err := Load(env(map[string]string{name: v})); err == nil {
				t.Errorf("%s=%q accepted", name, v)
			}
		}
	}
}

// SWIPER_SWIPE_COMMITTERS: 0 (social's default) unless set; negative or not
// a number refused.
func TestSwipeCommitters(t *testing.T) {
	if c, err := Load(env(nil)); err != nil || c.SwipeCommitters != 0 {
		t.Fatalf("default: %d, %v; want 0", c.SwipeCommitters, err)
	}
	if c, err := Load(env(map[string]string{"SWIPER_SWIPE_COMMITTERS": "3"})); err != nil || c.SwipeCommitters != 3 {
		t.Fatalf("set: %d, %v; want 3", c.SwipeCommitters, err)
	}
	for _, v := range []string{"-1", "two"} {
		if _, err := Load(env(map[string]string{"SWIPER_SWIPE_COMMITTERS": v})); err == nil {
			t.Errorf("SWIPER_SWIPE_COMMITTERS=%q accepted", v)
		}
	}
}
