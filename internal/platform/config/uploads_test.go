package config

import "testing"

// SWIPER_UPLOADS_PER_HOUR: 20 by default, 0 (no limit) allowed, negative or
// not a number refused.
func TestUploadsPerHour(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.UploadsPerHour != 20 {
		t.Fatalf("default: %d, %v; want 20", c.UploadsPerHour, err)
	}
	for v, want := range map[string]int{"0": 0, "5": 5, " 100 ": 100} {
		c, err := Load(env(map[string]string{"SWIPER_UPLOADS_PER_HOUR": v}))
		if err != nil || c.UploadsPerHour != want {
			t.Errorf("%q: %d, %v; want %d", v, c.UploadsPerHour, err, want)
		}
	}
	for _, v := range []string{"-1", "many", "2.5"} {
		if _, err := Load(env(map[string]string{"SWIPER_UPLOADS_PER_HOUR": v})); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}
