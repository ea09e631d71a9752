// Package otptest is the contract test every otp.Store must pass.
package otptest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/otp"
)

// NewStore builds a fresh, empty store enforcing p for one test.
type NewStore func(t *testing.T, p otp.Policy) otp.Store

// zone is the "server time zone" of the tests (fixed, so no tzdata needed).
var zone = time.FixedZone("CST", 8*3600)

// base is the fake clock's starting point: 10:00:00 local, on an hour
// boundary, far from midnight.
func base() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, zone) }

// clock is a manually advanced fake clock.
type clock struct{ now time.Time }

func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

// rig is one test's store, policy, fake clock and phone numbers.
type rig struct {
	t     *testing.T
	s     otp.Store
	p     otp.Policy
	clk   *clock
	seq   atomic.Int64
	phone string
}

func newRig(t *testing.T, newStore NewStore, mod func(*otp.Policy)) *rig {
	t.Helper()
	p := otp.DefaultPolicy()
	if mod != nil {
		mod(&p)
	}
	r := &rig{t: t, s: newStore(t, p), p: p, clk: &clock{now: base()}}
	r.phone = r.newPhone()
	return r
}

func (r *rig) newPhone() string {
	return fmt.Sprintf("+86138%08d", r.seq.Add(1))
}

// hash returns the "keyed hash" of code (the store only compares bytes).
func hash(code string) []byte {
	h := sha256.Sum256([]byte("test-key:" + code))
	return h[:]
}

func dayOf(now time.Time) (string, time.Time) {
	l := now.In(zone)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, zone)
	return start.Format("2006-01-02"), start.AddDate(0, 0, 1)
}

func (r *rig) req(phone, ip, code string) otp.IssueRequest {
	dk, de := dayOf(r.clk.now)
	return otp.IssueRequest{Phone: phone, IP: ip, CodeHash: hash(code), Now: r.clk.now, DayKey: dk, DayEnd: de}
}

func (r *rig) issueFor(phone, ip, code string) otp.Result {
	r.t.Helper()
	res, err := r.s.Issue(context.Background(), r.req(phone, ip, code))
	if err != nil {
		r.t.Fatalf("Issue(%s, %q): %v", phone, ip, err)
	}
	return res
}

func (r *rig) verifyFor(phone, code string) otp.Result {
	r.t.Helper()
	res, err := r.s.Verify(context.Background(), phone, hash(code), r.clk.now)
	if err != nil {
		r.t.Fatalf("Verify(%s): %v", phone, err)
	}
	return res
}

func (r *rig) checkFor(phone, code string) otp.Result {
	r.t.Helper()
	res, err := r.s.Check(context.Background(), phone, hash(code), r.clk.now)
	if err != nil {
		r.t.Fatalf("Check(%s): %v", phone, err)
	}
	return res
}

func (r *rig) check(code string) otp.Result  { r.t.Helper(); return r.checkFor(r.phone, code) }
func (r *rig) issue(code string) otp.Result  { r.t.Helper(); return r.issueFor(r.phone, "", code) }
func (r *rig) verify(code string) otp.Result { r.t.Helper(); return r.verifyFor(r.phone, code) }

var names = map[otp.Outcome]string{
	otp.OK: "OK", otp.Locked: "Locked", otp.TooSoon: "TooSoon", otp.DailyLimit: "DailyLimit",
	otp.IPLimit: "IPLimit", otp.WrongCode: "WrongCode", otp.NoCode: "NoCode",
}

func name(o otp.Outcome) string {
	if n, ok := names[o]; ok {
		return n
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// want checks the outcome and, for outcomes that carry one, the RetryAfter.
func want(t *testing.T, what string, got otp.Result, o otp.Outcome, retry time.Duration) {
	t.Helper()
	if got.Outcome != o {
		t.Fatalf("%s: outcome %s, want %s (RetryAfter %v)", what, name(got.Outcome), name(o), got.RetryAfter)
	}
	if got.RetryAfter != retry {
		t.Fatalf("%s: %s RetryAfter %v, want %v", what, name(o), got.RetryAfter, retry)
	}
}

// Run runs the whole contract against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T, p otp.Policy) otp.Store) {
	t.Run("IssueVerifySingleUse", func(t *testing.T) { testSingleUse(t, newStore) })
	t.Run("NoCode", func(t *testing.T) { testNoCode(t, newStore) })
	t.Run("Interval", func(t *testing.T) { testInterval(t, newStore) })
	t.Run("DailyLimit", func(t *testing.T) { testDailyLimit(t, newStore) })
	t.Run("IPLimit", func(t *testing.T) { testIPLimit(t, newStore) })
	t.Run("IPLimitOff", func(t *testing.T) { testIPLimitOff(t, newStore) })
	t.Run("Lock", func(t *testing.T) { testLock(t, newStore) })
	t.Run("FailuresSurviveResend", func(t *testing.T) { testFailuresSurviveResend(t, newStore) })
	t.Run("SuccessResetsFailures", func(t *testing.T) { testSuccessResets(t, newStore) })
	t.Run("FailuresExpire", func(t *testing.T) { testFailuresExpire(t, newStore) })
	t.Run("RejectedIssueChangesNothing", func(t *testing.T) { testRejectedIssue(t, newStore) })
	t.Run("PhonesAreIndependent", func(t *testing.T) { testIndependent(t, newStore) })
	t.Run("InvalidRequests", func(t *testing.T) { testInvalid(t, newStore) })
	t.Run("ConcurrentIPLimit", func(t *testing.T) { testConcurrentIP(t, newStore) })
	t.Run("ConcurrentIssueOnePhone", func(t *testing.T) { testConcurrentIssue(t, newStore) })
	t.Run("ConcurrentWrongCodes", func(t *testing.T) { testConcurrentWrong(t, newStore) })
	t.Run("ConcurrentRightCode", func(t *testing.T) { testConcurrentRight(t, newStore) })
	t.Run("CheckConsumesNothing", func(t *testing.T) { testCheckConsumesNothing(t, newStore) })
	t.Run("CheckCountsWrongCodes", func(t *testing.T) { testCheckCountsWrong(t, newStore) })
	t.Run("CheckNoCodeAndLock", func(t *testing.T) { testCheckNoCodeAndLock(t, newStore) })
	t.Run("ConcurrentChecks", func(t *testing.T) { testConcurrentChecks(t, newStore) })
}

func testSingleUse(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("123456"), otp.OK, 0)
	r.clk.advance(10 * time.Second)
	want(t, "verify right", r.verify("123456"), otp.OK, 0)
	want(t, "verify again", r.verify("123456"), otp.NoCode, 0)
	want(t, "verify other", r.verify("654321"), otp.NoCode, 0)
}

func testNoCode(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "never issued", r.verify("123456"), otp.NoCode, 0)

	want(t, "issue", r.issue("123456"), otp.OK, 0)
	r.clk.advance(r.p.CodeTTL - time.Second)
	// A wrong code just before expiry counts...
	want(t, "wrong before expiry", r.verify("000000"), otp.WrongCode, 0)
	r.clk.advance(time.Second) // exactly CodeTTL after sending
	want(t, "expired", r.verify("123456"), otp.NoCode, 0)
	// ...but NoCode answers do not: many of them never lock the phone.
	for i := range 2 * r.p.MaxFailures {
		want(t, fmt.Sprintf("expired wrong #%d", i+1), r.verify("000000"), otp.NoCode, 0)
	}
	// 1 failure so far: MaxFailures-2 more wrong codes are still WrongCode.
	want(t, "reissue", r.issue("222222"), otp.OK, 0)
	for i := range r.p.MaxFailures - 2 {
		want(t, fmt.Sprintf("wrong #%d", i+2), r.verify("000000"), otp.WrongCode, 0)
	}
	want(t, "right", r.verify("222222"), otp.OK, 0)
}

func testInterval(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "first", r.issue("111111"), otp.OK, 0)
	r.clk.advance(15 * time.Second)
	want(t, "too soon", r.issue("222222"), otp.TooSoon, r.p.Interval-15*time.Second)
	r.clk.advance(r.p.Interval - 15*time.Second - time.Millisecond)
	want(t, "1 ms too soon", r.issue("222222"), otp.TooSoon, time.Millisecond)
	r.clk.advance(time.Millisecond)
	want(t, "after interval", r.issue("333333"), otp.OK, 0)
	want(t, "old code", r.verify("111111"), otp.WrongCode, 0)
	want(t, "rejected code never stored", r.verify("222222"), otp.WrongCode, 0)
	want(t, "new code", r.verify("333333"), otp.OK, 0)
}

func testDailyLimit(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, func(p *otp.Policy) { p.Interval = 0 })
	for i := range r.p.DailyLimit {
		want(t, fmt.Sprintf("issue #%d", i+1), r.issue(fmt.Sprintf("%06d", i)), otp.OK, 0)
		r.clk.advance(time.Minute)
	}
	_, dayEnd := dayOf(r.clk.now)
	want(t, "over daily limit", r.issue("999999"), otp.DailyLimit, dayEnd.Sub(r.clk.now))
	// The last accepted code is still the valid one.
	want(t, "last code", r.verify(fmt.Sprintf("%06d", r.p.DailyLimit-1)), otp.OK, 0)

	// Another phone is not affected.
	other := r.newPhone()
	want(t, "other phone", r.issueFor(other, "", "123456"), otp.OK, 0)

	r.clk.now = dayEnd
	want(t, "next day", r.issue("123123"), otp.OK, 0)
	want(t, "next day code", r.verify("123123"), otp.OK, 0)
}

func testIPLimit(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	const ip = "203.0.113.7"
	r.clk.advance(20 * time.Minute) // window is 10:00-11:00
	for i := range r.p.IPLimit {
		want(t, fmt.Sprintf("phone #%d", i+1), r.issueFor(r.newPhone(), ip, "123456"), otp.OK, 0)
		r.clk.advance(time.Second)
	}
	winEnd := base().Add(time.Hour)
	over := r.newPhone()
	want(t, "over IP limit", r.issueFor(over, ip, "123456"), otp.IPLimit, winEnd.Sub(r.clk.now))
	// The rejected phone got no code and no interval.
	want(t, "rejected phone has no code", r.verifyFor(over, "123456"), otp.NoCode, 0)
	// Other IPs and uncounted requests are not affected.
	want(t, "other IP", r.issueFor(r.newPhone(), "203.0.113.8", "123456"), otp.OK, 0)
	want(t, "IPv6", r.issueFor(r.newPhone(), "2001:db8::1", "123456"), otp.OK, 0)
	for i := range 5 {
		want(t, fmt.Sprintf("empty IP #%d", i+1), r.issueFor(r.newPhone(), "", "123456"), otp.OK, 0)
	}
	r.clk.now = winEnd.Add(-time.Millisecond)
	want(t, "1 ms before window end", r.issueFor(over, ip, "123456"), otp.IPLimit, time.Millisecond)
	r.clk.now = winEnd
	want(t, "next window", r.issueFor(over, ip, "123456"), otp.OK, 0)
	want(t, "its code", r.verifyFor(over, "123456"), otp.OK, 0)
}

func testIPLimitOff(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, func(p *otp.Policy) { p.IPLimit = 0 })
	for i := range 100 {
		want(t, fmt.Sprintf("phone #%d", i+1), r.issueFor(r.newPhone(), "203.0.113.7", "123456"), otp.OK, 0)
	}
}

// lockPhone makes MaxFailures wrong attempts and checks the answers.
func (r *rig) lockPhone() {
	r.t.Helper()
	for i := range r.p.MaxFailures - 1 {
		want(r.t, fmt.Sprintf("wrong #%d", i+1), r.verify("000000"), otp.WrongCode, 0)
	}
	want(r.t, fmt.Sprintf("wrong #%d", r.p.MaxFailures), r.verify("000000"), otp.Locked, r.p.LockDuration)
}

func testLock(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("123456"), otp.OK, 0)
	r.lockPhone()
	r.clk.advance(time.Minute)
	left := r.p.LockDuration - time.Minute
	want(t, "right code while locked", r.verify("123456"), otp.Locked, left)
	want(t, "wrong code while locked", r.verify("000000"), otp.Locked, left)
	want(t, "issue while locked", r.issue("654321"), otp.Locked, left)
	r.clk.advance(left - time.Millisecond)
	want(t, "1 ms before lock end", r.verify("123456"), otp.Locked, time.Millisecond)
	r.clk.advance(time.Millisecond)
	want(t, "burned code after lock", r.verify("123456"), otp.NoCode, 0)
	want(t, "new issue after lock", r.issue("654321"), otp.OK, 0)
	want(t, "its right code", r.verify("654321"), otp.OK, 0)
	// The lock is over and the counter reset: a full round of failures again.
	r.clk.advance(r.p.Interval)
	want(t, "issue again", r.issue("111111"), otp.OK, 0)
	r.lockPhone()
}

func testFailuresSurviveResend(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("111111"), otp.OK, 0)
	for i := range r.p.MaxFailures - 2 {
		want(t, fmt.Sprintf("wrong #%d", i+1), r.verify("000000"), otp.WrongCode, 0)
	}
	r.clk.advance(r.p.Interval + time.Second)
	want(t, "resend", r.issue("222222"), otp.OK, 0)
	want(t, fmt.Sprintf("wrong #%d", r.p.MaxFailures-1), r.verify("000000"), otp.WrongCode, 0)
	want(t, fmt.Sprintf("wrong #%d", r.p.MaxFailures), r.verify("000000"), otp.Locked, r.p.LockDuration)

	// The counter is not reset by the lock: after it, one wrong code locks again.
	r.clk.advance(r.p.LockDuration)
	want(t, "issue after lock", r.issue("333333"), otp.OK, 0)
	want(t, "one more wrong", r.verify("000000"), otp.Locked, r.p.LockDuration)
	want(t, "burned", r.verify("333333"), otp.Locked, r.p.LockDuration)
}

func testSuccessResets(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("111111"), otp.OK, 0)
	for i := range r.p.MaxFailures - 1 {
		want(t, fmt.Sprintf("wrong #%d", i+1), r.verify("000000"), otp.WrongCode, 0)
	}
	want(t, "right", r.verify("111111"), otp.OK, 0)
	r.clk.advance(r.p.Interval)
	want(t, "issue again", r.issue("222222"), otp.OK, 0)
	for i := range r.p.MaxFailures - 1 {
		want(t, fmt.Sprintf("wrong again #%d", i+1), r.verify("000000"), otp.WrongCode, 0)
	}
	want(t, "right again", r.verify("222222"), otp.OK, 0)
}

func testFailuresExpire(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, func(p *otp.Policy) {
		p.CodeTTL = 48 * time.Hour // keep one code alive across the failure TTL
	})
	want(t, "issue", r.issue("111111"), otp.OK, 0)
	for i := range r.p.MaxFailures - 1 {
		want(t, fmt.Sprintf("wrong #%d", i+1), r.verify("000000"), otp.WrongCode, 0)
	}
	// FailureTTL after the last failure, the counter is forgotten.
	r.clk.advance(r.p.FailureTTL)
	for i := range r.p.MaxFailures - 1 {
		want(t, fmt.Sprintf("wrong after TTL #%d", i+1), r.verify("000000"), otp.WrongCode, 0)
	}
	// Just before FailureTTL after the last failure, it is not.
	r.clk.advance(r.p.FailureTTL - time.Millisecond)
	want(t, "wrong within TTL", r.verify("000000"), otp.Locked, r.p.LockDuration)
}

func testRejectedIssue(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, func(p *otp.Policy) { p.DailyLimit = 2; p.IPLimit = 2 })
	const ip = "198.51.100.1"
	want(t, "first", r.issueFor(r.phone, ip, "111111"), otp.OK, 0)
	for i := range 20 {
		r.clk.advance(time.Second)
		want(t, fmt.Sprintf("too soon #%d", i+1), r.issueFor(r.phone, ip, "999999"),
			otp.TooSoon, r.p.Interval-time.Duration(i+1)*time.Second)
	}
	// The first code is untouched (still valid, no failure counted) ...
	want(t, "first code still valid", r.verify("111111"), otp.OK, 0)
	// ... and neither the day nor the IP counted the TooSoon answers.
	r.clk.advance(r.p.Interval)
	want(t, "second send", r.issueFor(r.phone, ip, "222222"), otp.OK, 0)
	want(t, "IP full now", r.issueFor(r.newPhone(), ip, "333333"), otp.IPLimit, time.Hour-r.clk.now.Sub(base()))
	r.clk.advance(r.p.Interval)
	_, dayEnd := dayOf(r.clk.now)
	want(t, "day full now", r.issueFor(r.phone, "", "444444"), otp.DailyLimit, dayEnd.Sub(r.clk.now))
	// The IPLimit and DailyLimit rejections did not replace the code either.
	want(t, "second code still valid", r.verify("222222"), otp.OK, 0)

	// A Locked rejection does not count either.
	r2 := newRig(t, newStore, func(p *otp.Policy) { p.DailyLimit = 2 })
	want(t, "r2 issue", r2.issue("111111"), otp.OK, 0)
	r2.lockPhone()
	for range 5 {
		r2.clk.advance(r2.p.Interval)
		if got := r2.issue("999999"); got.Outcome != otp.Locked {
			t.Fatalf("issue while locked: %s", name(got.Outcome))
		}
	}
	r2.clk.advance(r2.p.LockDuration)
	want(t, "r2 second send", r2.issue("222222"), otp.OK, 0)
}

func testIndependent(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	a, b := r.newPhone(), r.newPhone()
	want(t, "issue a", r.issueFor(a, "", "111111"), otp.OK, 0)
	want(t, "issue b", r.issueFor(b, "", "222222"), otp.OK, 0)
	want(t, "a with b's code", r.verifyFor(a, "222222"), otp.WrongCode, 0)
	for range r.p.MaxFailures - 1 {
		r.verifyFor(a, "000000")
	}
	want(t, "b not locked", r.verifyFor(b, "222222"), otp.OK, 0)
	want(t, "a locked", r.verifyFor(a, "111111"), otp.Locked, r.p.LockDuration)
}

func testInvalid(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	ctx := context.Background()
	req := r.req("", "", "123456")
	if _, err := r.s.Issue(ctx, req); !errors.Is(err, otp.ErrInvalid) {
		t.Fatalf("Issue with empty phone: err %v, want ErrInvalid", err)
	}
	req = r.req(r.phone, "", "")
	req.CodeHash = nil
	if _, err := r.s.Issue(ctx, req); !errors.Is(err, otp.ErrInvalid) {
		t.Fatalf("Issue with empty hash: err %v, want ErrInvalid", err)
	}
	if _, err := r.s.Verify(ctx, "", hash("1"), r.clk.now); !errors.Is(err, otp.ErrInvalid) {
		t.Fatalf("Verify with empty phone: err %v, want ErrInvalid", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.s.Issue(cctx, r.req(r.phone, "", "123456")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Issue with canceled ctx: err %v, want context.Canceled", err)
	}
	// Nothing was stored by the failed calls.
	want(t, "issue", r.issue("123456"), otp.OK, 0)
}

// parallel runs f(i) for i in [0,n) in n goroutines started together and
// returns the count of each outcome.
func parallel(t *testing.T, n int, f func(i int) (otp.Result, error)) map[otp.Outcome]int {
	t.Helper()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[otp.Outcome]int{}
		errs   []error
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			res, err := f(i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			counts[res.Outcome]++
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d calls failed, first: %v", len(errs), errs[0])
	}
	return counts
}

func wantCounts(t *testing.T, got map[otp.Outcome]int, want map[otp.Outcome]int) {
	t.Helper()
	for o := range names {
		if got[o] != want[o] {
			t.Fatalf("outcomes %v, want %v", fmtCounts(got), fmtCounts(want))
		}
	}
}

func fmtCounts(c map[otp.Outcome]int) string {
	s := ""
	for o := otp.OK; o <= otp.NoCode; o++ {
		if c[o] > 0 {
			s += fmt.Sprintf("%s:%d ", name(o), c[o])
		}
	}
	return s
}

func testConcurrentIP(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, func(p *otp.Policy) { p.IPLimit = 30 })
	phones := make([]string, 50)
	for i := range phones {
		phones[i] = r.newPhone()
	}
	got := parallel(t, 50, func(i int) (otp.Result, error) {
		return r.s.Issue(context.Background(), r.req(phones[i], "192.0.2.1", "123456"))
	})
	wantCounts(t, got, map[otp.Outcome]int{otp.OK: 30, otp.IPLimit: 20})
}

func testConcurrentIssue(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, func(p *otp.Policy) { p.Interval = 60 * time.Second })
	got := parallel(t, 50, func(i int) (otp.Result, error) {
		return r.s.Issue(context.Background(), r.req(r.phone, "", strconv.Itoa(i)))
	})
	wantCounts(t, got, map[otp.Outcome]int{otp.OK: 1, otp.TooSoon: 49})
}

func testConcurrentWrong(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("123456"), otp.OK, 0)
	got := parallel(t, 50, func(i int) (otp.Result, error) {
		return r.s.Verify(context.Background(), r.phone, hash(fmt.Sprintf("w%d", i)), r.clk.now)
	})
	wantCounts(t, got, map[otp.Outcome]int{otp.WrongCode: r.p.MaxFailures - 1, otp.Locked: 50 - (r.p.MaxFailures - 1)})
	want(t, "right code after", r.verify("123456"), otp.Locked, r.p.LockDuration)
}

func testConcurrentRight(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("123456"), otp.OK, 0)
	got := parallel(t, 20, func(int) (otp.Result, error) {
		return r.s.Verify(context.Background(), r.phone, hash("123456"), r.clk.now)
	})
	wantCounts(t, got, map[otp.Outcome]int{otp.OK: 1, otp.NoCode: 19})
}

func testCheckConsumesNothing(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("123456"), otp.OK, 0)
	for i := range 3 {
		want(t, fmt.Sprintf("check #%d", i+1), r.check("123456"), otp.OK, 0)
	}
	want(t, "verify after the checks", r.verify("123456"), otp.OK, 0)
	want(t, "check after verify", r.check("123456"), otp.NoCode, 0)
	want(t, "verify again", r.verify("123456"), otp.NoCode, 0)
}

func testCheckCountsWrong(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("123456"), otp.OK, 0)
	for i := range r.p.MaxFailures - 2 {
		want(t, fmt.Sprintf("wrong check #%d", i+1), r.check("000000"), otp.WrongCode, 0)
	}
	// A matching check does not reset the counter (only a Verify does) ...
	want(t, "right check", r.check("123456"), otp.OK, 0)
	want(t, fmt.Sprintf("wrong verify #%d", r.p.MaxFailures-1), r.verify("000000"), otp.WrongCode, 0)
	// ... and the last wrong check burns the code and locks the phone.
	want(t, fmt.Sprintf("wrong check #%d", r.p.MaxFailures), r.check("000000"), otp.Locked, r.p.LockDuration)
	want(t, "right check while locked", r.check("123456"), otp.Locked, r.p.LockDuration)
	want(t, "right verify while locked", r.verify("123456"), otp.Locked, r.p.LockDuration)
	r.clk.advance(r.p.LockDuration)
	want(t, "burned code after the lock", r.check("123456"), otp.NoCode, 0)
}

func testCheckNoCodeAndLock(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "never issued", r.check("123456"), otp.NoCode, 0)
	want(t, "issue", r.issue("123456"), otp.OK, 0)
	r.clk.advance(r.p.CodeTTL)
	want(t, "expired", r.check("123456"), otp.NoCode, 0)
	// NoCode answers count nothing.
	for i := range 2 * r.p.MaxFailures {
		want(t, fmt.Sprintf("expired wrong #%d", i+1), r.check("000000"), otp.NoCode, 0)
	}
	want(t, "reissue", r.issue("222222"), otp.OK, 0)
	r.clk.advance(time.Minute)
	want(t, "old code", r.check("123456"), otp.WrongCode, 0)
	want(t, "new code", r.check("222222"), otp.OK, 0)
	want(t, "new code verified", r.verify("222222"), otp.OK, 0)
}

// Concurrent checks of the right code all match; of the logins that then
// verify it, exactly one consumes it. Concurrent wrong checks lock the phone
// exactly as wrong verifies do.
func testConcurrentChecks(t *testing.T, newStore NewStore) {
	r := newRig(t, newStore, nil)
	want(t, "issue", r.issue("123456"), otp.OK, 0)
	got := parallel(t, 20, func(int) (otp.Result, error) {
		return r.s.Check(context.Background(), r.phone, hash("123456"), r.clk.now)
	})
	wantCounts(t, got, map[otp.Outcome]int{otp.OK: 20})
	got = parallel(t, 20, func(int) (otp.Result, error) {
		return r.s.Verify(context.Background(), r.phone, hash("123456"), r.clk.now)
	})
	wantCounts(t, got, map[otp.Outcome]int{otp.OK: 1, otp.NoCode: 19})

	r2 := newRig(t, newStore, nil)
	want(t, "issue", r2.issue("123456"), otp.OK, 0)
	got = parallel(t, 30, func(i int) (otp.Result, error) {
		return r2.s.Check(context.Background(), r2.phone, hash(fmt.Sprintf("w%d", i)), r2.clk.now)
	})
	wantCounts(t, got, map[otp.Outcome]int{otp.WrongCode: r2.p.MaxFailures - 1, otp.Locked: 30 - (r2.p.MaxFailures - 1)})
}

// Bench measures issue+verify cycles on distinct phones (b.N of each).
func Bench(b *testing.B, s otp.Store) {
	ctx := context.Background()
	now := base()
	dk, de := dayOf(now)
	h := hash("123456")
	i := 0
	for b.Loop() {
		i++
		phone := fmt.Sprintf("+1555%08d", i)
		res, err := s.Issue(ctx, otp.IssueRequest{Phone: phone, CodeHash: h, Now: now, DayKey: dk, DayEnd: de})
		if err != nil || res.Outcome != otp.OK {
			b.Fatalf("issue: %v %v", res, err)
		}
		res, err = s.Verify(ctx, phone, h, now)
		if err != nil || res.Outcome != otp.OK {
			b.Fatalf("verify: %v %v", res, err)
		}
	}
}

// BenchParallel is Bench with GOMAXPROCS goroutines (b.SetParallelism
// multiplies them), each on its own phones.
func BenchParallel(b *testing.B, s otp.Store) {
	ctx := context.Background()
	now := base()
	dk, de := dayOf(now)
	h := hash("123456")
	var seq atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			phone := fmt.Sprintf("+1666%08d", seq.Add(1))
			res, err := s.Issue(ctx, otp.IssueRequest{Phone: phone, CodeHash: h, Now: now, DayKey: dk, DayEnd: de})
			if err != nil || res.Outcome != otp.OK {
				b.Errorf("issue: %v %v", res, err)
				return
			}
			res, err = s.Verify(ctx, phone, h, now)
			if err != nil || res.Outcome != otp.OK {
				b.Errorf("verify: %v %v", res, err)
				return
			}
		}
	})
}
