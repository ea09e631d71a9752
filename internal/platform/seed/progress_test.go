package seed

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressFirstFrame checks that the bar shows no rate before a second has
// passed (the first frame once read "293126191 users/s") and ends its line, so
// that the summary printed after it starts on a new line.
func TestProgressFirstFrame(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, 4000, "seeding users", "users")
	p.Add(2000)
	p.Add(2000)
	p.Finish()
	out := buf.String()
	if strings.Contains(out, "/s") {
		t.Errorf("a rate within the first second: %q", out)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("the bar does not end its line: %q", out)
	}
	if !strings.Contains(out, "4000/4000") {
		t.Errorf("no final count: %q", out)
	}
}

func TestRate(t *testing.T) {
	if got := rate(5000, 2*time.Second, "users"); got != "2500 users/s" {
		t.Fatalf("rate = %q", got)
	}
}
