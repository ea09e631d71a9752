package seed

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the bar of one seeding phase. It shows its own rate, counted
// from when the phase started, and only once a second has passed: the bar's
// built-in rate starts at its first update and showed absurd figures such as
// "293126191 users/s" on the first frame. Finish ends the line, so the summary
// that follows starts on a line of its own.
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	what  string
	unit  string
	start time.Time
	done  int
}

func newProgress(w io.Writer, total int, what, unit string) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w, what: what, unit: unit, start: time.Now()}
	p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what), progressbar.OptionShowCount(),
		progressbar.OptionThrottle(200*time.Millisecond))
	return p
}

// Add records n more items. Not safe for concurrent use.
func (p *progress) Add(n int) {
	p.done += n
	if el := time.Since(p.start); el >= time.Second {
		p.bar.Describe(fmt.Sprintf("%s (%s)", p.what, rate(p.done, el, p.unit)))
	}
	_ = p.bar.Add(n)
}

// Finish completes the bar and ends its line.
func (p *progress) Finish() {
	_ = p.bar.Finish()
	fmt.Fprintln(p.w)
}

// rate formats n items over d as "12345 users/s".
func rate(n int, d time.Duration, unit string) string {
	return fmt.Sprintf("%.0f %s/s", float64(n)/d.Seconds(), unit)
}
