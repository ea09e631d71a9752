package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/ratelimit"
	"github.com/swiper-social/swiper/internal/domain/auth"
	"github.com/swiper-social/swiper/internal/domain/chat"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/media"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/domain/safety"
	"github.com/swiper-social/swiper/internal/domain/social"
	"github.com/swiper-social/swiper/internal/platform/backend"
)

// API codes of API.md §1.
const (
	codeOK            = 0
	codeMissing       = 1000
	codeInvalid       = 1001
	codeBadPhone      = 1002
	codeUserNotFound  = 1003
	codeWrongCode     = 1004
	codeCodeInvalid   = 1005
	codeTooOften      = 1006
	codeLocked        = 1007
	codeUnauthorized  = 1010
	codeBadImage      = 1011
	codeAlbumFull     = 1012
	codeNeedsVIP      = 3001
	codeNoRoute       = 4000
	codeNoMethod      = 4001
	codeTooLarge      = 4002
	codeCrossOrigin   = 4003
	codeInternal      = 5000
	codeUnavailable   = 5001
	retryUnavailable  = 5 // seconds, Retry-After of a 503
	jsonBodyLimit     = 64 << 10
	multipartBodySize = 9 << 20
)

type envelope struct {
	Code   int               `json:"code"`
	Data   any               `json:"data"`
	Errors map[string]string `json:"errors,omitempty"`
}

// jsonAppender is data that writes its own JSON (HTML not escaped, as
// encoding/json writes the rest), answered with okAppended. encoding/json
// would call its MarshalJSON and then validate and copy the result, which
// cost a page of 50 messages 15 % of its server CPU.
type jsonAppender interface {
	AppendJSON(b []byte) []byte
}

func writeJSON(w http.ResponseWriter, status int, v envelope) {
	b := []byte(`{"code":5000,"data":"internal error"}` + "\n")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err == nil {
		b = buf.Bytes()
	} else {
		status = http.StatusInternalServerError
	}
	writeBody(w, status, b)
}

// appendEnvelope appends the answer of code with data a to b, as
// encoding/json writes an envelope, and a newline.
func appendEnvelope(b []byte, code int, a jsonAppender) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"data":`...)
	return append(a.AppendJSON(b), "}\n"...)
}

// writeBody sends the JSON answer b with status.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Its length, so that an answer over net/http's 2 KiB buffer (a page
	// of messages) is not sent chunked, which costs the server a write and
	// nginx a parse.
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// answerBuffers are the server's reused buffers of the answers whose data
// writes its own JSON (okAppended): a new ~10 KiB buffer was a quarter of
// what a page of 50 messages allocated, and the garbage collections it
// caused were the page's latency tail on a replica holding thousands of
// sockets. The zero value is ready.
type answerBuffers struct{ pool sync.Pool }

// maxPooledAnswer is the capacity over which a buffer is dropped rather
// than kept (a page of 100 long messages).
const maxPooledAnswer = 128 << 10

func (p *answerBuffers) get() *[]byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 16<<10)
	return &b
}

func (p *answerBuffers) put(b *[]byte) {
	if cap(*b) <= maxPooledAnswer {
		*b = (*b)[:0]
		p.pool.Put(b)
	}
}

// okAppended is ok for data that writes its own JSON, written in one of
// the server's buffers (Write copies it out before it is reused).
func (s *server) okAppended(w http.ResponseWriter, data jsonAppender) {
	buf := s.answers.get()
	*buf = appendEnvelope((*buf)[:0], codeOK, data)
	writeBody(w, http.StatusOK, *buf)
	s.answers.put(buf)
}

func ok(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, envelope{Code: codeOK, Data: data})
}

func fail(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, envelope{Code: code, Data: msg})
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// byteSize writes n bytes in MiB or KiB when it is a whole number of them.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// errTooLarge is returned by body readers when the limit is exceeded.
var errTooLarge = errors.New("httpapi: request body too large")

// writeError is the one place that turns an error into an HTTP answer:
// status, API code and a safe message. Causes of 5xx answers are logged
// with the request id, never sent.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	for _, rule := range errorRules {
		if rep, ok := rule(err); ok {
			rep.write(w)
			return
		}
	}
	switch {
	case errors.Is(err, backend.ErrUnavailable):
		log.WarnContext(r.Context(), "backing service unavailable", "err", err)
		retryAfter(w, retryUnavailable*time.Second)
		fail(w, http.StatusServiceUnavailable, codeUnavailable, "a backing service is unavailable; try again")
	case r.Context().Err() != nil:
		// The client went away or the server is shutting down; nobody reads this.
		retryAfter(w, retryUnavailable*time.Second)
		fail(w, http.StatusServiceUnavailable, codeUnavailable, "request cancelled; try again")
	default:
		log.ErrorContext(r.Context(), "internal error", "err", err)
		fail(w, http.StatusInternalServerError, codeInternal, "internal error")
	}
}

// errorReply is the answer to a client-facing error.
type errorReply struct {
	status int
	code   int
	msg    string
	fields map[string]string // per-field reasons; only input errors have them
	retry  bool              // send Retry-After: after
	after  time.Duration
}

func (rep errorReply) write(w http.ResponseWriter) {
	if rep.retry {
		retryAfter(w, rep.after)
	}
	writeJSON(w, rep.status, envelope{Code: rep.code, Data: rep.msg, Errors: rep.fields})
}

// errorRule answers the errors it recognises; ok is false for the others.
type errorRule func(err error) (rep errorReply, ok bool)

// errorRules maps client-facing errors to their answers. The first rule that
// matches wins, so an error wrapping several of these gets the earliest; errors
// no rule matches are writeError's 503s and 500s.
var errorRules = []errorRule{
	inputRule,
	is(errCrossOrigin, http.StatusForbidden, codeCrossOrigin, "cross-origin request refused"),
	is(errTooLarge, http.StatusRequestEntityTooLarge, codeTooLarge, "request body too large"),
	is(auth.ErrUnauthenticated, http.StatusUnauthorized, codeUnauthorized, "not logged in, or the session is invalid, expired or revoked"),
	is(auth.ErrCodeWrong, http.StatusBadRequest, codeWrongCode, "verification code wrong"),
	is(auth.ErrCodeInvalid, http.StatusBadRequest, codeCodeInvalid, "verification code expired, already used or never sent; request a new one"),
	codeLimitRule,
	imageLimitRule,
	is(media.ErrUnsupported, http.StatusUnsupportedMediaType, codeBadImage, "image rejected: not a JPEG, PNG, WebP or GIF"),
	is(media.ErrUndecodable, http.StatusBadRequest, codeBadImage, "image rejected: cannot be decoded"),
	retryIs(media.ErrBusy, http.StatusServiceUnavailable, codeUnavailable, "too many images are being processed; try again"),
	is(profile.ErrUserNotFound, http.StatusNotFound, codeUserNotFound, "user not found"),
	is(profile.ErrPhotoNotFound, http.StatusNotFound, codeNoRoute, "photo not found"),
	albumFullRule,
	permissionRule,
	// Social (codes in social.go)
	is(social.ErrSelfSwipe, http.StatusBadRequest, codeSelfSwipe, "you cannot swipe yourself"),
	is(social.ErrAlreadySwiped, http.StatusConflict, codeAlreadySwiped, "you already swiped this user"),
	swipeQuotaRule,
	rateLimitRule,
	is(social.ErrNothingToRewind, http.StatusNotFound, codeNothingToUndo, "nothing to rewind"),
	is(social.ErrRewindTooOld, http.StatusConflict, codeRewindTooOld, fmt.Sprintf("the latest swipe is older than the rewind window (%d s)", int(social.RewindWindow/time.Second))),
	is(social.ErrRewindMatched, http.StatusConflict, codeRewindMatched, "the latest swipe made a match: it cannot be rewound (unmatch instead)"),
	is(social.ErrNotMatched, http.StatusNotFound, codeNotMatched, "you are not matched with this user"),
	// end of social
	// Safety (codes in safety.go)
	is(safety.ErrSelf, http.StatusBadRequest, codeSelfSwipe, "you cannot block or report yourself"),
	reportQuotaRule,
	is(auth.ErrSuspended, http.StatusForbidden, codeSuspended, "this account is suspended"),
	// end of safety
	// Conversations (chat)
	is(chat.ErrSelf, http.StatusBadRequest, codeSelfSwipe, "you cannot message yourself"),
	is(chat.ErrNotMatched, http.StatusNotFound, codeNotMatched, "you are not matched with this user"),
	// end of chat
}

// is answers errors that are, or wrap, target with a fixed reply.
func is(target error, status, code int, msg string) errorRule {
	return func(err error) (errorReply, bool) {
		return errorReply{status: status, code: code, msg: msg}, errors.Is(err, target)
	}
}

// retryIs is is for a temporary refusal: it also sends Retry-After.
func retryIs(target error, status, code int, msg string) errorRule {
	return func(err error) (errorReply, bool) {
		return errorReply{status: status, code: code, msg: msg, retry: true, after: retryUnavailable * time.Second}, errors.Is(err, target)
	}
}

// inputRule answers invalid input with 400, the input's own API code if it
// has one, and its per-field reasons.
func inputRule(err error) (errorReply, bool) {
	var inErr *input.Error
	if !errors.As(err, &inErr) {
		return errorReply{}, false
	}
	code := codeInvalid
	if inErr.Missing {
		code = codeMissing
	}
	if inErr.Code != 0 {
		code = inErr.Code
	}
	return errorReply{status: http.StatusBadRequest, code: code, msg: inErr.Message, fields: inErr.Fields}, true
}

// codeLimitRule answers the verification-code limits: a locked phone, or codes
// requested too often.
func codeLimitRule(err error) (errorReply, bool) {
	var limit *auth.LimitError
	if !errors.As(err, &limit) {
		return errorReply{}, false
	}
	rep := errorReply{status: http.StatusTooManyRequests, code: codeTooOften, retry: true, after: limit.RetryAfter,
		msg: "verification codes requested too often: " + limit.Reason}
	if limit.Locked {
		rep.code, rep.msg = codeLocked, "too many wrong codes: this phone is locked for a while"
	}
	return rep, true
}

// imageLimitRule answers an image over one of the upload limits, naming the
// limit it broke.
func imageLimitRule(err error) (errorReply, bool) {
	var imgLimit *media.LimitError
	if !errors.As(err, &imgLimit) {
		return errorReply{}, false
	}
	rep := errorReply{status: http.StatusBadRequest, code: codeBadImage}
	switch {
	case errors.Is(imgLimit.Err, media.ErrTooLarge):
		rep.status, rep.msg = http.StatusRequestEntityTooLarge, "image rejected: file over "+byteSize(imgLimit.Limit)
	case errors.Is(imgLimit.Err, media.ErrTooManyPixels) && imgLimit.Value == 0:
		rep.msg = "image rejected: it has no pixels"
	case errors.Is(imgLimit.Err, media.ErrTooManyPixels):
		rep.msg = "image rejected: over " +
			strconv.FormatFloat(float64(imgLimit.Limit)/1e6, 'f', -1, 64) + " megapixels"
	default: // media.ErrTooCostly
		rep.msg = "image rejected: decoding it would need over " +
			byteSize(imgLimit.Limit) + " of memory (16-bit and progressive images need more per pixel)"
	}
	return rep, true
}

// albumFullRule answers an upload to a full photo album.
func albumFullRule(err error) (errorReply, bool) {
	var albumFull *profile.AlbumFullError
	if !errors.As(err, &albumFull) {
		return errorReply{}, false
	}
	return errorReply{status: http.StatusConflict, code: codeAlbumFull,
		msg: "photo album is full (" + strconv.Itoa(albumFull.Max) + " photos)"}, true
}

// permissionRule answers an action the user's VIP level does not allow.
func permissionRule(err error) (errorReply, bool) {
	var perm *profile.PermissionError
	if !errors.As(err, &perm) {
		return errorReply{}, false
	}
	return errorReply{status: http.StatusForbidden, code: codeNeedsVIP,
		msg: "your VIP level lacks the permission " + perm.Permission}, true
}

// swipeQuotaRule answers a used-up daily like or rewind quota.
func swipeQuotaRule(err error) (errorReply, bool) {
	var quota *social.QuotaError
	if !errors.As(err, &quota) {
		return errorReply{}, false
	}
	rep := errorReply{status: http.StatusTooManyRequests, code: codeLikeQuota, msg: "daily like quota used up",
		retry: true, after: quota.RetryAfter}
	if quota.Rewind {
		rep.code, rep.msg = codeRewindQuota, "daily rewind quota used up"
	}
	return rep, true
}

// rateLimitRule answers a request refused by a rate-limit rule, naming it.
func rateLimitRule(err error) (errorReply, bool) {
	var rate *ratelimit.Error
	if !errors.As(err, &rate) {
		return errorReply{}, false
	}
	return errorReply{status: http.StatusTooManyRequests, code: codeTooFrequent, retry: true, after: rate.RetryAfter,
		msg: "too many requests of this kind (" + rate.Rule.Name + "); slow down"}, true
}

// reportQuotaRule answers a used-up daily report quota.
func reportQuotaRule(err error) (errorReply, bool) {
	var reports *safety.QuotaError
	if !errors.As(err, &reports) {
		return errorReply{}, false
	}
	return errorReply{status: http.StatusTooManyRequests, code: codeReportQuota, msg: "too many reports today",
		retry: true, after: reports.RetryAfter}, true
}
