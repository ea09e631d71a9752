// Package auth implements login by SMS code and opaque sessions (API.md §2).
package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/netip"
	"strconv"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/adapters/sms"
	"github.com/swiper-social/swiper/internal/adapters/tasks"
	"github.com/swiper-social/swiper/internal/domain/phone"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// SessionTTL is the absolute lifetime of a session.
const SessionTTL = 30 * 24 * time.Hour

// TaskSendSMS is the task type that delivers a verification code.
const TaskSendSMS = "sms:send"

// Errors of the service; httpapi maps them to API codes.
var (
	ErrCodeWrong       = errors.New("auth: verification code wrong")                       // 1004
	ErrCodeInvalid     = errors.New("auth: verification code expired, used or never sent") // 1005
	ErrUnauthenticated = errors.New("auth: not logged in or session invalid")              // 1010
	ErrPhoneInvalid    = errors.New("auth: phone number format invalid")                   // 1002
	ErrSuspended       = errors.New("auth: this account is suspended")                     // 1013
)

// Suspensions tells whether an account is suspended (banned by an
// operator): its code requests and logins are refused (ErrSuspended).
type Suspensions interface {
	// PhoneSuspended reports whether the user of an E.164 phone is banned
	// (false for a phone nobody registered).
	PhoneSuspended(ctx context.Context, e164 string) (bool, error)
	// UserSuspended reports whether user id is banned.
	UserSuspended(ctx context.Context, id int64) (bool, error)
}

// LimitError is a refusal because of a rate limit or a lock.
type LimitError struct {
	Locked     bool // true: 1007 (too many wrong codes); false: 1006 (codes requested too often)
	RetryAfter time.Duration
	Reason     string
}

func (e *LimitError) Error() string { return "auth: " + e.Reason }

// Users is what login asks the user module before the code is checked.
type Users interface {
	// Remembered returns the id of the user of an E.164 phone when this
	// process knows it without any I/O (0 when not). It may be stale, which
	// the UserFunc of the login finds out. read are keys of the code
	// store's kv.Store whose values the UserFunc needs first (the user's
	// cached record): they are read with the check of the code when the
	// code store is an otp.Reader (one round trip on Redis).
	Remembered(phone string) (userID int64, read []string)
}

// UserFunc finds the user of a phone whose code was just checked (and is
// consumed only once it returns), registering them on their first login.
// remembered is what Users said (0: nothing) and read the values of its
// keys (nil: not read). The id it returns is the user the session is for:
// a remembered id is only taken once confirmed by what was read. When it
// fails the login fails with its error and the code stays usable.
type UserFunc func(ctx context.Context, remembered int64, read [][]byte) (userID int64, err error)

// Service is the authentication service.
type Service struct {
	codes    otp.Store
	policy   otp.Policy
	sessions kv.Store
	queue    tasks.Queue
	users    Users
	clock    clock.Clock
	tz       *time.Location
	key      []byte // HMAC key for code hashes; also seals codes in task payloads
	log      *slog.Logger
	banned   Suspensions // nil: nobody is
}

// Deps are the collaborators of Service.
type Deps struct {
	Codes  otp.Store
	Policy otp.Policy
	// Sessions holds the sessions. When Codes is an otp.Chainer it must be
	// the kv.Store its Then keys go to (Redis: same client and prefix;
	// SQLite: the kv.SQLite the code store was made with).
	Sessions kv.Store
	Queue    tasks.Queue
	Users    Users
	Clock    clock.Clock
	TZ       *time.Location
	Key      []byte
	Log      *slog.Logger
	// Suspensions refuses the code requests and logins of banned users
	// (nil: nobody is banned).
	Suspensions Suspensions
}

// New returns a Service.
func New(d Deps) *Service {
	return &Service{codes: d.Codes, policy: d.Policy, sessions: d.Sessions, queue: d.Queue, users: d.Users,
		clock: d.Clock, tz: d.TZ, key: d.Key, log: d.Log, banned: d.Suspensions}
}

// CodeSent is the answer to a code request.
type CodeSent struct {
	ExpiresIn   int `json:"expires_in"`
	ResendAfter int `json:"resend_after"`
}

// RequestCode generates and sends a code to the phone (already parsed to
// E.164) for a client at ip. The answer is the same whether or not the
// phone is registered.
func (s *Service) RequestCode(ctx context.Context, e164, ip string) (CodeSent, error) {
	if err := s.phoneAllowed(ctx, e164); err != nil {
		return CodeSent{}, err // before anything is counted or sent
	}
	now := s.clock.Now()
	code, err := newCode()
	if err != nil {
		return CodeSent{}, err
	}
	local := now.In(s.tz)
	y, m, d := local.Date()
	dayEnd := time.Date(y, m, d+1, 0, 0, 0, 0, s.tz).UTC()
	res, err := s.codes.Issue(ctx, otp.IssueRequest{
		Phone: e164, IP: ipLimitSubject(ip), CodeHash: s.hash(e164, code), Now: now,
		DayKey: local.Format("2006-01-02"), DayEnd: dayEnd,
	})
	if err != nil {
		return CodeSent{}, fmt.Errorf("auth: issue code: %w", err)
	}
	switch res.Outcome {
	case otp.OK:
	case otp.Locked:
		return CodeSent{}, &LimitError{Locked: true, RetryAfter: res.RetryAfter, Reason: "phone locked after too many wrong codes"}
	case otp.TooSoon:
		return CodeSent{}, &LimitError{RetryAfter: res.RetryAfter, Reason: "a code was sent to this phone less than a minute ago"}
	case otp.DailyLimit:
		return CodeSent{}, &LimitError{RetryAfter: res.RetryAfter, Reason: "too many codes for this phone today"}
	case otp.IPLimit:
		return CodeSent{}, &LimitError{RetryAfter: res.RetryAfter, Reason: "too many codes requested from this network"}
	default:
		return CodeSent{}, fmt.Errorf("auth: issue code: unexpected outcome %d", res.Outcome)
	}
	payload, err := s.sealSMS(smsTask{Phone: e164, Code: code, ExpiresAt: now.Add(s.policy.CodeTTL)})
	if err != nil {
		return CodeSent{}, err
	}
	if err := s.queue.Enqueue(ctx, tasks.Task{Type: TaskSendSMS, Payload: payload, MaxRetry: 12, Timeout: 20 * time.Second}); err != nil {
		return CodeSent{}, fmt.Errorf("auth: enqueue sms: %w", err)
	}
	return CodeSent{ExpiresIn: int(s.policy.CodeTTL / time.Second), ResendAfter: int(s.policy.Interval / time.Second)}, nil
}

// ipLimitSubject is what the per-IP code limit counts a client IP as
// (API.md §2): an IPv4 address (also written IPv4-mapped) as itself, an
// IPv6 address as its /64 ("2001:db8:1:2::/64"), since one subscriber gets
// a whole /64 and could otherwise pick a new address for every request.
// Anything that is not an IP address is counted as it is.
func ipLimitSubject(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// Session is a new login.
type Session struct {
	Token     string
	ExpiresAt time.Time
	UserID    int64
}

// Login checks the code of an E.164 phone and opens a session for the user
// that user returns (which runs only after the code was accepted).
//
// Nothing is consumed before everything that can fail has succeeded (API.md
// §1: a login that fails with 503 leaves its code usable): the code is first
// checked without being consumed (a wrong one counts at once), then user
// finds or registers the user in the database, and only then is the code
// consumed, together with storing the session in one atomic step when the
// code store is a Chainer. With a code store that is not, the session is
// stored first and deleted should the code turn out spent meanwhile (its
// token was never shown to anyone).
//
// When the phone's user id is remembered and the code store is a Reader,
// the user's cached record is read along with the check (one round trip on
// Redis), for user to confirm the id without the database.
func (s *Service) Login(ctx context.Context, e164, code string, user UserFunc) (Session, error) {
	if err := s.phoneAllowed(ctx, e164); err != nil {
		return Session{}, err // before the code is checked: nothing is consumed
	}
	now := s.clock.Now()
	hash := s.hash(e164, code)
	remembered, keys := s.users.Remembered(e164)
	var (
		res  otp.Result
		read [][]byte
		err  error
	)
	if r, ok := s.codes.(otp.Reader); ok && remembered > 0 && len(keys) > 0 {
		res, read, err = r.CheckRead(ctx, e164, hash, now, keys)
	} else {
		res, err = s.codes.Check(ctx, e164, hash, now)
	}
	if err != nil {
		return Session{}, fmt.Errorf("auth: check code: %w", err)
	}
	if err := verifyError(res); err != nil {
		return Session{}, err
	}
	uid, err := user(ctx, remembered, read)
	if err != nil {
		return Session{}, err
	}
	if uid <= 0 {
		return Session{}, fmt.Errorf("auth: login: no user id for %s", phone.Mask(e164))
	}
	// The session carries the user's session generation read now, and the
	// ban is checked after that read: a ban bumps the generation after it
	// is stored, so either this check sees the ban, or the ban's bump comes
	// after the read and revokes the session (Authenticate).
	gen, err := s.generation(ctx, uid)
	if err != nil {
		return Session{}, err
	}
	if s.banned != nil {
		banned, err := s.banned.UserSuspended(ctx, uid)
		if err != nil {
			return Session{}, fmt.Errorf("auth: suspended: %w", err)
		}
		if banned {
			return Session{}, ErrSuspended
		}
	}
	sess, val, err := s.newSession(uid, gen, now)
	if err != nil {
		return Session{}, err
	}
	key := sessionKey(sess.Token)
	if c, ok := s.codes.(otp.Chainer); ok {
		res, err = c.VerifyThen(ctx, e164, hash, now, otp.Then{Key: key, Value: val, TTL: SessionTTL})
		if err != nil {
			return Session{}, fmt.Errorf("auth: verify code: %w", err)
		}
		if err := verifyError(res); err != nil {
			return Session{}, err
		}
		return sess, nil
	}
	if err := s.sessions.Set(ctx, key, val, SessionTTL); err != nil {
		return Session{}, fmt.Errorf("auth: store session: %w", err)
	}
	if res, err = s.codes.Verify(ctx, e164, hash, now); err != nil {
		err = fmt.Errorf("auth: verify code: %w", err)
	} else {
		err = verifyError(res)
	}
	if err != nil {
		if derr := s.sessions.Del(ctx, key); derr != nil {
			s.log.WarnContext(ctx, "session of a failed login not deleted", "err", derr)
		}
		return Session{}, err
	}
	return sess, nil
}

// verifyError maps the outcome of a Check or Verify to the service's
// errors (nil for OK). Between a login's Check and its Verify the code may
// have been used by a concurrent login (1005), replaced by a resend (1004)
// or burned by wrong codes (1007): the Verify's answer is the one given.
func verifyError(res otp.Result) error {
	switch res.Outcome {
	case otp.OK:
		return nil
	case otp.WrongCode:
		return ErrCodeWrong
	case otp.NoCode:
		return ErrCodeInvalid
	case otp.Locked:
		return &LimitError{Locked: true, RetryAfter: res.RetryAfter, Reason: "phone locked after too many wrong codes"}
	default:
		return fmt.Errorf("auth: verify code: unexpected outcome %d", res.Outcome)
	}
}

// OpenSession makes a new session for user uid (a login, or the seeder's
// load-test tokens).
func (s *Service) OpenSession(ctx context.Context, uid int64) (Session, error) {
	gen, err := s.generation(ctx, uid)
	if err != nil {
		return Session{}, err
	}
	sess, val, err := s.newSession(uid, gen, s.clock.Now())
	if err != nil {
		return Session{}, err
	}
	if err := s.sessions.Set(ctx, sessionKey(sess.Token), val, SessionTTL); err != nil {
		return Session{}, fmt.Errorf("auth: store session: %w", err)
	}
	return sess, nil
}

// newSession makes the token and stored value of a session of uid in its
// session generation gen.
func (s *Service) newSession(uid, gen int64, now time.Time) (Session, []byte, error) {
	token, err := newToken()
	if err != nil {
		return Session{}, nil, err
	}
	return Session{Token: token, ExpiresAt: now.Add(SessionTTL), UserID: uid},
		appendSessionValue(nil, sessionValue{UserID: uid, Created: now.Unix(), Gen: gen}), nil
}

// phoneAllowed refuses a banned user's phone (ErrSuspended).
func (s *Service) phoneAllowed(ctx context.Context, e164 string) error {
	if s.banned == nil {
		return nil
	}
	banned, err := s.banned.PhoneSuspended(ctx, e164)
	if err != nil {
		return fmt.Errorf("auth: suspended: %w", err)
	}
	if banned {
		return ErrSuspended
	}
	return nil
}

// generationKey holds a user's session generation: RevokeAll bumps it, and
// every session made in an older one is revoked. It has no expiry (a
// session outlives any TTL it could have) and exists only for users whose
// sessions were ever revoked.
func generationKey(uid int64) string { return "sessgen:" + strconv.FormatInt(uid, 10) }

// generation returns the session generation of uid (0 before any RevokeAll).
func (s *Service) generation(ctx context.Context, uid int64) (int64, error) {
	b, err := s.sessions.Get(ctx, generationKey(uid))
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("auth: session generation: %w", err)
	}
	g, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("auth: session generation of %d: %w", uid, err)
	}
	return g, nil
}

// RevokeAll revokes every session of user uid at once, on every replica:
// their next request answers ErrUnauthenticated (a ban, a deleted
// account). Sessions opened afterwards work.
func (s *Service) RevokeAll(ctx context.Context, uid int64) error {
	return RevokeSessions(ctx, s.sessions, uid)
}

// RevokeSessions is RevokeAll on the session store sessions, for operator
// commands running outside a server.
func RevokeSessions(ctx context.Context, sessions kv.Store, uid int64) error {
	if _, err := sessions.Incr(ctx, generationKey(uid), 0); err != nil {
		return fmt.Errorf("auth: revoke sessions of %d: %w", uid, err)
	}
	return nil
}

// Authenticate returns the user of a session token.
func (s *Service) Authenticate(ctx context.Context, token string) (int64, error) {
	if !validToken(token) {
		return 0, ErrUnauthenticated
	}
	b, err := s.sessions.Get(ctx, sessionKey(token))
	if errors.Is(err, kv.ErrNotFound) {
		return 0, ErrUnauthenticated
	}
	if err != nil {
		return 0, fmt.Errorf("auth: session: %w", err)
	}
	var v sessionValue
	if err := json.Unmarshal(b, &v); err != nil || v.UserID <= 0 {
		return 0, ErrUnauthenticated
	}
	gen, err := s.generation(ctx, v.UserID)
	if err != nil {
		return 0, err
	}
	if v.Gen < gen {
		return 0, ErrUnauthenticated // revoked (RevokeAll)
	}
	return v.UserID, nil
}

// Logout revokes the session at once.
func (s *Service) Logout(ctx context.Context, token string) error {
	if !validToken(token) {
		return ErrUnauthenticated
	}
	if err := s.sessions.Del(ctx, sessionKey(token)); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// SMSHandler returns the task handler that delivers codes through sender.
func (s *Service) SMSHandler(sender sms.Sender) tasks.Handler {
	return func(ctx context.Context, payload []byte) error {
		t, err := s.openSMS(payload)
		if err != nil {
			return fmt.Errorf("auth: sms task: %w: %w", err, tasks.ErrSkipRetry)
		}
		if !s.clock.Now().Before(t.ExpiresAt) {
			s.log.WarnContext(ctx, "sms not sent before the code expired", "phone", phone.Mask(t.Phone))
			return fmt.Errorf("auth: sms to %s: code expired: %w", phone.Mask(t.Phone), tasks.ErrSkipRetry)
		}
		if err := sender.Send(ctx, t.Phone, t.Code); err != nil {
			return fmt.Errorf("auth: sms to %s: %w", phone.Mask(t.Phone), err)
		}
		return nil
	}
}

type sessionValue struct {
	UserID  int64 `json:"uid"`
	Created int64 `json:"created"`
	Gen     int64 `json:"gen,omitempty"` // the user's session generation at login (RevokeAll)
}

// appendSessionValue appends v as JSON (what json.Marshal writes, without
// its reflection on the login path).
func appendSessionValue(b []byte, v sessionValue) []byte {
	b = append(b, `{"uid":`...)
	b = strconv.AppendInt(b, v.UserID, 10)
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, v.Created, 10)
	if v.Gen != 0 {
		b = append(b, `,"gen":`...)
		b = strconv.AppendInt(b, v.Gen, 10)
	}
	return append(b, '}')
}

type smsTask struct {
	Phone     string    `json:"phone"`
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// sealSMS encrypts the task (AES-GCM under a key derived from the server
// secret), so the plaintext code never rests in the queue.
func (s *Service) sealSMS(t smsTask) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	aead, err := s.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("auth: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, []byte(TaskSendSMS)), nil
}

func (s *Service) openSMS(b []byte) (smsTask, error) {
	aead, err := s.aead()
	if err != nil {
		return smsTask{}, err
	}
	if len(b) < aead.NonceSize() {
		return smsTask{}, errors.New("payload too short")
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(TaskSendSMS))
	if err != nil {
		return smsTask{}, errors.New("payload does not decrypt")
	}
	var t smsTask
	if err := json.Unmarshal(plain, &t); err != nil {
		return smsTask{}, fmt.Errorf("payload: %w", err)
	}
	return t, nil
}

func (s *Service) aead() (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("sms-task-key"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("auth: cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

func (s *Service) hash(e164, code string) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("otp:" + e164 + ":" + code))
	return mac.Sum(nil)
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("auth: code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func validToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func sessionKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return "sess:" + hex.EncodeToString(h[:])
}
