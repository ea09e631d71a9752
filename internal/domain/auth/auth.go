// Package auth implements login by SMS code and opaque sessions (API.md §2).
package auth

import (
	"bytes"
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
	"strings"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
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

// LimitError is a refusal because of a rate limit or a lock.
type LimitError struct {
	Locked     bool // true: 1007 (too many wrong codes); false: 1006 (codes requested too often)
	RetryAfter time.Duration
	Reason     string
}

func (e *LimitError) Error() string { return "auth: " + e.Reason }

// Users is what auth asks the user module about a phone's user.
type Users interface {
	// Remembered returns the id of the user of an E.164 phone when this
	// process knows it without any I/O (0 when not). It may be stale, which
	// the UserFunc of the login finds out. read are keys of the session
	// store whose values the UserFunc needs first (the user's cached
	// record): they are read with the check of the code when the code store
	// is a CodeReader (one round trip on Redis).
	Remembered(phone string) (userID int64, read []string)
	// Lookup reads the user of an E.164 phone from the database: their id
	// (0: nobody registered it) and whether they are suspended (banned by
	// an operator). Remembered knows the phone afterwards.
	Lookup(ctx context.Context, phone string) (userID int64, suspended bool, err error)
}

// UserFunc finds the user of a phone whose code was just checked (and is
// consumed only once it returns), registering them on their first login.
// remembered is the id Users remembered or looked up (0: nobody) and read
// the values of its Remembered keys (nil: not read). The id it returns is
// the user the session is for: a remembered id is only taken once
// confirmed by what was read. A suspended user is refused with an error
// wrapping ErrSuspended, judged from the user's row as read in the call —
// from the database, or from a cache entry the ban dropped before it
// revoked the user's sessions (RevokeAll). When it fails the login fails
// with its error and the code stays usable.
type UserFunc func(ctx context.Context, remembered int64, read [][]byte) (userID int64, err error)

// Codes is the code store (otp.Store, whose doc is the contract of the
// outcomes): the limits of the Policy and the state of the verification
// codes, never a code itself, only its keyed hash.
type Codes interface {
	Issue(ctx context.Context, req model.CodeIssue) (model.CodeResult, error)
	Check(ctx context.Context, phone string, codeHash []byte, now time.Time) (model.CodeResult, error)
	Verify(ctx context.Context, phone string, codeHash []byte, now time.Time) (model.CodeResult, error)
}

// CodeChainer is a code store that stores a login's session in the step
// that consumes its code (otp.Chainer): its Then keys are keys of the
// Sessions the service was given.
type CodeChainer interface {
	VerifyThen(ctx context.Context, phone string, codeHash []byte, now time.Time, then model.CodeThen) (model.CodeResult, error)
}

// CodeReader is a code store that reads keys of the Sessions with a check,
// in one round trip (otp.Reader): keys of one user are read at one instant
// or in their order, never a key after one that follows it.
type CodeReader interface {
	CheckRead(ctx context.Context, phone string, codeHash []byte, now time.Time, keys []string) (model.CodeResult, [][]byte, error)
}

// Sessions is the key-value store of the sessions (kv.Store: Redis,
// SQLite embedded, memory). Every error of an unreachable store satisfies
// errors.Is(err, backend.ErrUnavailable): a request is then refused (503),
// never let through.
type Sessions interface {
	// MGet returns the values of keys in order, nil for a missing key.
	MGet(ctx context.Context, keys ...string) ([][]byte, error)
	// Set stores value under key for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Del removes keys.
	Del(ctx context.Context, keys ...string) error
	// Incr adds 1 to the integer at key (missing: 0) and returns it.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
}

// Queue takes the tasks that deliver the codes (tasks.Queue: in-process
// or asynq).
type Queue interface {
	Enqueue(ctx context.Context, t model.Task) error
}

// SMSSender delivers one code to one phone (E.164) (sms.Sender: console
// or Yunzhixun). An error means the message was not accepted: the task
// retries. Its errors never contain the code.
type SMSSender interface {
	Send(ctx context.Context, phone, code string) error
}

// Service is the authentication service.
type Service struct {
	codes    Codes
	policy   model.CodePolicy
	sessions Sessions
	queue    Queue
	users    Users
	clock    clock.Clock
	tz       *time.Location
	key      []byte // HMAC key for code hashes; also seals codes in task payloads
	log      *slog.Logger
}

// Deps are the collaborators of Service.
type Deps struct {
	Codes  Codes
	Policy model.CodePolicy
	// Sessions holds the sessions. When Codes is a CodeChainer or a
	// CodeReader it must be the store its keys are keys of (otp.NewRedis's
	// kv.Redis, otp.NewSQLite's kv.SQLite).
	Sessions Sessions
	Queue    Queue
	// Users knows the phones' users; their suspensions refuse code requests
	// and logins (ErrSuspended).
	Users Users
	Clock clock.Clock
	TZ    *time.Location
	Key   []byte
	Log   *slog.Logger
}

// New returns a Service.
func New(d Deps) *Service {
	return &Service{codes: d.Codes, policy: d.Policy, sessions: d.Sessions, queue: d.Queue, users: d.Users,
		clock: d.Clock, tz: d.TZ, key: d.Key, log: d.Log}
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
	// The phone's user is looked up (and remembered for the login to come)
	// before anything is counted or sent: a suspended one is refused.
	if _, suspended, err := s.users.Lookup(ctx, e164); err != nil {
		return CodeSent{}, fmt.Errorf("auth: request code: %w", err)
	} else if suspended {
		return CodeSent{}, ErrSuspended
	}
	now := s.clock.Now()
	code, err := newCode()
	if err != nil {
		return CodeSent{}, err
	}
	local := now.In(s.tz)
	y, m, d := local.Date()
	dayEnd := time.Date(y, m, d+1, 0, 0, 0, 0, s.tz).UTC()
	res, err := s.codes.Issue(ctx, model.CodeIssue{
		Phone: e164, IP: ipLimitSubject(ip), CodeHash: s.hash(e164, code), Now: now,
		DayKey: local.Format("2006-01-02"), DayEnd: dayEnd,
	})
	if err != nil {
		return CodeSent{}, fmt.Errorf("auth: issue code: %w", err)
	}
	switch res.Outcome {
	case model.CodeOK:
	case model.CodeLocked:
		return CodeSent{}, &LimitError{Locked: true, RetryAfter: res.RetryAfter, Reason: "phone locked after too many wrong codes"}
	case model.CodeTooSoon:
		return CodeSent{}, &LimitError{RetryAfter: res.RetryAfter, Reason: "a code was sent to this phone less than a minute ago"}
	case model.CodeDailyLimit:
		return CodeSent{}, &LimitError{RetryAfter: res.RetryAfter, Reason: "too many codes for this phone today"}
	case model.CodeIPLimit:
		return CodeSent{}, &LimitError{RetryAfter: res.RetryAfter, Reason: "too many codes requested from this network"}
	default:
		return CodeSent{}, fmt.Errorf("auth: issue code: unexpected outcome %d", res.Outcome)
	}
	payload, err := s.sealSMS(smsTask{Phone: e164, Code: code, ExpiresAt: now.Add(s.policy.CodeTTL)})
	if err != nil {
		return CodeSent{}, err
	}
	if err := s.queue.Enqueue(ctx, model.Task{Type: TaskSendSMS, Payload: payload, MaxRetry: 12, Timeout: 20 * time.Second}); err != nil {
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
// code store is a CodeChainer. With a code store that is not, the session
// is stored first and deleted should the code turn out spent meanwhile (its
// token was never shown to anyone).
//
// Suspended users are refused (ErrSuspended, API.md §2: whatever the code)
// from the rows the login reads anyway, without a query of its own: a
// phone this process does not remember is looked up in the database
// before the code is checked; the user's row user reads (database or
// cache) is judged after the user's session generation was read; and
// only a code check that fails asks the database whether the phone's user
// is suspended. The session carries that generation: a ban revokes it
// (RevokeAll) after banning the row and dropping its cached copies, so
// either the row read shows the ban, or the revocation comes after the
// generation was read and revokes the session.
//
// When the phone's user id is known and the code store is a CodeReader,
// the session generation and the user's cached record are read with the
// check (one round trip on Redis), for user to confirm the id without the
// database.
func (s *Service) Login(ctx context.Context, e164, code string, user UserFunc) (Session, error) {
	now := s.clock.Now()
	hash := s.hash(e164, code)
	uid, keys, lookedUp, err := s.loginUser(ctx, e164)
	if err != nil {
		return Session{}, err
	}
	var (
		res  model.CodeResult
		gen  int64
		read [][]byte
	)
	if r, ok := s.codes.(CodeReader); ok && uid > 0 {
		var vals [][]byte
		res, vals, err = r.CheckRead(ctx, e164, hash, now, append([]string{generationKey(uid)}, keys...))
		if err == nil && res.Outcome == model.CodeOK {
			if gen, err = parseGeneration(uid, vals[0]); err == nil && len(keys) > 0 {
				read = vals[1:]
			}
		}
	} else {
		res, err = s.codes.Check(ctx, e164, hash, now)
		if err == nil && res.Outcome == model.CodeOK && uid > 0 {
			gen, err = s.generation(ctx, uid) // before user reads the row
		}
	}
	if err != nil {
		return Session{}, fmt.Errorf("auth: check code: %w", err)
	}
	if res.Outcome != model.CodeOK && !lookedUp {
		// A refused code of a phone this process remembered: the suspension
		// is answered first (API.md §1's order), at the cost of a query on
		// this path only.
		if _, suspended, err := s.users.Lookup(ctx, e164); err != nil {
			return Session{}, fmt.Errorf("auth: login: %w", err)
		} else if suspended {
			return Session{}, ErrSuspended
		}
	}
	if err := verifyError(res); err != nil {
		return Session{}, err
	}
	got, err := user(ctx, uid, read)
	if err != nil {
		return Session{}, err
	}
	if got <= 0 {
		return Session{}, fmt.Errorf("auth: login: no user id for %s", phone.Mask(e164))
	}
	if got != uid {
		// A registration, or a remembered id gone stale: user read the
		// row before the generation is read. A generation of 0 is safe (a
		// revocation after this read revokes the session); any other asks
		// the database again, after it.
		if gen, err = s.generation(ctx, got); err != nil {
			return Session{}, err
		}
		if gen != 0 {
			_, suspended, err := s.users.Lookup(ctx, e164)
			if err != nil {
				return Session{}, fmt.Errorf("auth: login: %w", err)
			}
			if suspended {
				return Session{}, ErrSuspended
			}
		}
	}
	return s.openLoginSession(ctx, e164, hash, now, got, gen)
}

// loginUser is what Login knows of e164's user before the code is
// checked: the id (0: none yet) and the keys of its cached record when
// this process remembers the phone; otherwise the database is asked
// (lookedUp), and a suspended user is refused before the code is counted.
func (s *Service) loginUser(ctx context.Context, e164 string) (uid int64, keys []string, lookedUp bool, err error) {
	uid, keys = s.users.Remembered(e164)
	if uid != 0 {
		return uid, keys, false, nil
	}
	id, suspended, err := s.users.Lookup(ctx, e164)
	if err != nil {
		return 0, nil, false, fmt.Errorf("auth: login: %w", err)
	}
	if suspended {
		return 0, nil, false, ErrSuspended
	}
	if id > 0 {
		uid, keys = s.users.Remembered(e164)
		if uid != id {
			uid, keys = id, nil
		}
	}
	return uid, keys, true, nil
}

// openLoginSession stores the session of user uid (generation gen) and
// uses the code: in one step when the code store can chain the write,
// otherwise the session first, deleted again when the code's Verify
// refuses.
func (s *Service) openLoginSession(ctx context.Context, e164 string, hash []byte, now time.Time, uid, gen int64) (Session, error) {
	sess, val, err := s.newSession(uid, gen, now)
	if err != nil {
		return Session{}, err
	}
	key := sessionKey(uid, sess.Token)
	if c, ok := s.codes.(CodeChainer); ok {
		res, err := c.VerifyThen(ctx, e164, hash, now, model.CodeThen{Key: key, Value: val, TTL: SessionTTL})
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
	res, err := s.codes.Verify(ctx, e164, hash, now)
	if err != nil {
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
func verifyError(res model.CodeResult) error {
	switch res.Outcome {
	case model.CodeOK:
		return nil
	case model.CodeWrong:
		return ErrCodeWrong
	case model.CodeNone:
		return ErrCodeInvalid
	case model.CodeLocked:
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
	if err := s.sessions.Set(ctx, sessionKey(uid, sess.Token), val, SessionTTL); err != nil {
		return Session{}, fmt.Errorf("auth: store session: %w", err)
	}
	return sess, nil
}

// newSession makes the token and stored value of a session of uid in its
// session generation gen.
func (s *Service) newSession(uid, gen int64, now time.Time) (Session, []byte, error) {
	token, err := newToken(uid)
	if err != nil {
		return Session{}, nil, err
	}
	return Session{Token: token, ExpiresAt: now.Add(SessionTTL), UserID: uid},
		appendSessionValue(nil, sessionValue{UserID: uid, Created: now.Unix(), Gen: gen}), nil
}

// The session keys. A token names its user (newToken), so that a session,
// its user's session generation and the user's cached rows share the
// user's Redis Cluster slot (model.UserTag):
//
//	sess:{u:ID}:<hex SHA-256 of the token>   the session (sessionValue), expiring with it
//	sessgen:{u:ID}                           the user's session generation (no expiry)
//
// RevokeAll bumps the generation; a session made in an older one is
// revoked. The generation exists only for users whose sessions were ever
// revoked, and never expires (a session outlives any TTL it could have).
// Authenticate reads both in one MGET, on one node of a cluster.
//
// Tokens issued before tokens named their user (43 characters, see
// legacyToken) are kept under sess:<hex SHA-256> with the generation
// sessgen:<ID>; they work until they expire (SessionTTL after their login),
// at the cost of two reads each.
func sessionKey(uid int64, token string) string {
	h := sha256.Sum256([]byte(token))
	return "sess:" + model.UserTag(uid) + ":" + hex.EncodeToString(h[:])
}

func generationKey(uid int64) string { return "sessgen:" + model.UserTag(uid) }

func legacySessionKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return "sess:" + hex.EncodeToString(h[:])
}

func legacyGenerationKey(uid int64) string { return "sessgen:" + strconv.FormatInt(uid, 10) }

// generation returns the session generation of uid (0 before any RevokeAll).
func (s *Service) generation(ctx context.Context, uid int64) (int64, error) {
	v, err := s.sessions.MGet(ctx, generationKey(uid))
	if err != nil {
		return 0, fmt.Errorf("auth: session generation: %w", err)
	}
	return parseGeneration(uid, v[0])
}

// parseGeneration reads a stored session generation (nil: 0).
func parseGeneration(uid int64, b []byte) (int64, error) {
	if b == nil {
		return 0, nil
	}
	g, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("auth: session generation of %d: %w", uid, err)
	}
	return g, nil
}

// RevokeAll revokes every session of user uid at once, on every replica:
// their next request answers ErrUnauthenticated (a ban, a deleted
// account). Sessions opened afterwards work. A ban calls it after the
// user's row is banned and its cached copies dropped (see Login).
func (s *Service) RevokeAll(ctx context.Context, uid int64) error {
	return RevokeSessions(ctx, s.sessions, uid)
}

// RevokeSessions is RevokeAll on the session store sessions, for operator
// commands running outside a server.
func RevokeSessions(ctx context.Context, sessions Sessions, uid int64) error {
	for _, k := range [...]string{generationKey(uid), legacyGenerationKey(uid)} {
		if _, err := sessions.Incr(ctx, k, 0); err != nil {
			return fmt.Errorf("auth: revoke sessions of %d: %w", uid, err)
		}
	}
	return nil
}

// Authenticate returns the user of a session token: one read of the
// session store (the session and its user's generation in one MGET).
func (s *Service) Authenticate(ctx context.Context, token string) (int64, error) {
	uid, _, err := s.AuthenticateRead(ctx, token, nil)
	return uid, err
}

// AuthenticateRead is Authenticate that also reads the keys of the session
// store that keys names for the user the token names, in the same MGET (on
// one node of a Redis Cluster when they carry the user's model.UserTag). Their
// values come back only with a valid session; they are nil when keys is nil
// or the token is one issued before tokens named their user.
func (s *Service) AuthenticateRead(ctx context.Context, token string, keys func(uid int64) []string) (int64, [][]byte, error) {
	uid, ok := tokenUser(token)
	if !ok {
		if legacyToken(token) {
			id, err := s.authenticateLegacy(ctx, token)
			return id, nil, err
		}
		return 0, nil, ErrUnauthenticated
	}
	want := []string{sessionKey(uid, token), generationKey(uid)}
	if keys != nil {
		want = append(want, keys(uid)...)
	}
	v, err := s.sessions.MGet(ctx, want...)
	if err != nil {
		return 0, nil, fmt.Errorf("auth: session: %w", err)
	}
	if _, err := s.valid(uid, v[0], v[1]); err != nil {
		return 0, nil, err
	}
	if keys == nil {
		return uid, nil, nil
	}
	return uid, v[2:], nil
}

// valid checks a stored session of uid against its user's generation.
func (s *Service) valid(uid int64, session, generation []byte) (int64, error) {
	if session == nil {
		return 0, ErrUnauthenticated
	}
	v, ok := parseSessionValue(session)
	if !ok || v.UserID != uid {
		return 0, ErrUnauthenticated
	}
	gen, err := parseGeneration(uid, generation)
	if err != nil {
		return 0, err
	}
	if v.Gen < gen {
		return 0, ErrUnauthenticated // revoked (RevokeAll)
	}
	return uid, nil
}

// authenticateLegacy is Authenticate of a token issued before tokens named
// their user: the session, then its user's generation.
func (s *Service) authenticateLegacy(ctx context.Context, token string) (int64, error) {
	v, err := s.sessions.MGet(ctx, legacySessionKey(token))
	if err != nil {
		return 0, fmt.Errorf("auth: session: %w", err)
	}
	sv, ok := parseSessionValue(v[0])
	if v[0] == nil || !ok || sv.UserID <= 0 {
		return 0, ErrUnauthenticated
	}
	g, err := s.sessions.MGet(ctx, legacyGenerationKey(sv.UserID))
	if err != nil {
		return 0, fmt.Errorf("auth: session generation: %w", err)
	}
	return s.valid(sv.UserID, v[0], g[0])
}

// Logout revokes the session at once.
func (s *Service) Logout(ctx context.Context, token string) error {
	var key string
	if uid, ok := tokenUser(token); ok {
		key = sessionKey(uid, token)
	} else if legacyToken(token) {
		key = legacySessionKey(token)
	} else {
		return ErrUnauthenticated
	}
	if err := s.sessions.Del(ctx, key); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// SMSHandler returns the task handler that delivers codes through sender.
func (s *Service) SMSHandler(sender SMSSender) model.TaskHandler {
	return func(ctx context.Context, payload []byte) error {
		t, err := s.openSMS(payload)
		if err != nil {
			return fmt.Errorf("auth: sms task: %w: %w", err, model.ErrSkipRetry)
		}
		if !s.clock.Now().Before(t.ExpiresAt) {
			s.log.WarnContext(ctx, "sms not sent before the code expired", "phone", phone.Mask(t.Phone))
			return fmt.Errorf("auth: sms to %s: code expired: %w", phone.Mask(t.Phone), model.ErrSkipRetry)
		}
		if err := sender.Send(ctx, t.Phone, t.Code); err != nil {
			return fmt.Errorf("auth: sms to %s: %w", phone.Mask(t.Phone), err)
		}
		return nil
	}
}

// sessionValue is what a session's key holds, as JSON:
// {"uid":7,"created":1765000000,"gen":2} ("gen" only when not 0).
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

// parseSessionValue reads what appendSessionValue wrote (and
// encoding/json would: it is read on every request, without reflection).
// Anything else is not a session.
func parseSessionValue(b []byte) (sessionValue, bool) {
	var v sessionValue
	rest, ok := bytes.CutPrefix(b, []byte(`{"uid":`))
	if !ok {
		return v, false
	}
	if v.UserID, rest, ok = cutInt(rest); !ok {
		return v, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"created":`)); !ok {
		return v, false
	}
	if v.Created, rest, ok = cutInt(rest); !ok {
		return v, false
	}
	if r, found := bytes.CutPrefix(rest, []byte(`,"gen":`)); found {
		if v.Gen, rest, ok = cutInt(r); !ok {
			return v, false
		}
	}
	return v, string(rest) == "}"
}

// cutInt reads the decimal integer at the start of b.
func cutInt(b []byte) (int64, []byte, bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(string(b[:i]), 10, 64)
	return n, b[i:], err == nil
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

// newToken makes the token of a new session of uid: 256 random bits
// (base64url, 43 characters) after the user's id and a dot, "7.<43>". The
// id lets the session be found among its user's keys (sessionKey); it is
// no secret (a user's own id) and proves nothing: only the stored hash of
// the whole token does.
func newToken(uid int64) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: token: %w", err)
	}
	return strconv.FormatInt(uid, 10) + "." + base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenUser returns the user a token of newToken names; ok is false for
// anything else.
func tokenUser(t string) (uid int64, ok bool) {
	id, secret, found := strings.Cut(t, ".")
	if !found || len(id) == 0 || len(id) > 18 || id[0] == '0' || !legacyToken(secret) {
		return 0, false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil
}

// legacyToken reports whether t has the form of a token issued before
// tokens named their user: 43 base64url characters.
func legacyToken(t string) bool {
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
