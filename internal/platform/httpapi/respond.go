package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
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

func writeJSON(w http.ResponseWriter, status int, v envelope) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	b := []byte(`{"code":5000,"data":"internal error"}` + "\n")
	if err := enc.Encode(v); err == nil {
		b = buf.Bytes()
	} else {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
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
	var inErr *input.Error
	var limit *auth.LimitError
	var perm *profile.PermissionError
	var quota *social.QuotaError
	var rate *ratelimit.Error
	var imgLimit *media.LimitError
	var albumFull *profile.AlbumFullError
	var reports *safety.QuotaError
	switch {
	case errors.As(err, &inErr):
		code := codeInvalid
		if inErr.Missing {
			code = codeMissing
		}
		if inErr.Code != 0 {
			code = inErr.Code
		}
		writeJSON(w, http.StatusBadRequest, envelope{Code: code, Data: inErr.Message, Errors: inErr.Fields})
	case errors.Is(err, errCrossOrigin):
		fail(w, http.StatusForbidden, codeCrossOrigin, "cross-origin request refused")
	case errors.Is(err, errTooLarge):
		fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "request body too large")
	case errors.Is(err, auth.ErrUnauthenticated):
		fail(w, http.StatusUnauthorized, codeUnauthorized, "not logged in, or the session is invalid, expired or revoked")
	case errors.Is(err, auth.ErrCodeWrong):
		fail(w, http.StatusBadRequest, codeWrongCode, "verification code wrong")
	case errors.Is(err, auth.ErrCodeInvalid):
		fail(w, http.StatusBadRequest, codeCodeInvalid, "verification code expired, already used or never sent; request a new one")
	case errors.As(err, &limit):
		retryAfter(w, limit.RetryAfter)
		if limit.Locked {
			fail(w, http.StatusTooManyRequests, codeLocked, "too many wrong codes: this phone is locked for a while")
		} else {
			fail(w, http.StatusTooManyRequests, codeTooOften, "verification codes requested too often: "+limit.Reason)
		}
	case errors.As(err, &imgLimit):
		switch {
		case errors.Is(imgLimit.Err, media.ErrTooLarge):
			fail(w, http.StatusRequestEntityTooLarge, codeBadImage, "image rejected: file over "+byteSize(imgLimit.Limit))
		case errors.Is(imgLimit.Err, media.ErrTooManyPixels) && imgLimit.Value == 0:
			fail(w, http.StatusBadRequest, codeBadImage, "image rejected: it has no pixels")
		case errors.Is(imgLimit.Err, media.ErrTooManyPixels):
			fail(w, http.StatusBadRequest, codeBadImage, "image rejected: over "+
				strconv.FormatFloat(float64(imgLimit.Limit)/1e6, 'f', -1, 64)+" megapixels")
		default: // media.ErrTooCostly
			fail(w, http.StatusBadRequest, codeBadImage, "image rejected: decoding it would need over "+
				byteSize(imgLimit.Limit)+" of memory (16-bit and progressive images need more per pixel)")
		}
	case errors.Is(err, media.ErrUnsupported):
		fail(w, http.StatusUnsupportedMediaType, codeBadImage, "image rejected: not a JPEG, PNG, WebP or GIF")
	case errors.Is(err, media.ErrUndecodable):
		fail(w, http.StatusBadRequest, codeBadImage, "image rejected: cannot be decoded")
	case errors.Is(err, media.ErrBusy):
		retryAfter(w, retryUnavailable*time.Second)
		fail(w, http.StatusServiceUnavailable, codeUnavailable, "too many images are being processed; try again")
	case errors.Is(err, profile.ErrUserNotFound):
		fail(w, http.StatusNotFound, codeUserNotFound, "user not found")
	case errors.Is(err, profile.ErrPhotoNotFound):
		fail(w, http.StatusNotFound, codeNoRoute, "photo not found")
	case errors.As(err, &albumFull):
		fail(w, http.StatusConflict, codeAlbumFull, "photo album is full ("+strconv.Itoa(albumFull.Max)+" photos)")
	case errors.As(err, &perm):
		fail(w, http.StatusForbidden, codeNeedsVIP, "your VIP level lacks the permission "+perm.Permission)
	// Social (codes in social.go)
	case errors.Is(err, social.ErrSelfSwipe):
		fail(w, http.StatusBadRequest, codeSelfSwipe, "you cannot swipe yourself")
	case errors.Is(err, social.ErrAlreadySwiped):
		fail(w, http.StatusConflict, codeAlreadySwiped, "you already swiped this user")
	case errors.As(err, &quota):
		retryAfter(w, quota.RetryAfter)
		if quota.Rewind {
			fail(w, http.StatusTooManyRequests, codeRewindQuota, "daily rewind quota used up")
		} else {
			fail(w, http.StatusTooManyRequests, codeLikeQuota, "daily like quota used up")
		}
	case errors.As(err, &rate):
		retryAfter(w, rate.RetryAfter)
		fail(w, http.StatusTooManyRequests, codeTooFrequent, "too many requests of this kind ("+rate.Rule.Name+"); slow down")
	case errors.Is(err, social.ErrNothingToRewind):
		fail(w, http.StatusNotFound, codeNothingToUndo, "nothing to rewind")
	case errors.Is(err, social.ErrRewindTooOld):
		fail(w, http.StatusConflict, codeRewindTooOld, fmt.Sprintf("the latest swipe is older than the rewind window (%d s)", int(social.RewindWindow/time.Second)))
	case errors.Is(err, social.ErrRewindMatched):
		fail(w, http.StatusConflict, codeRewindMatched, "the latest swipe made a match: it cannot be rewound (unmatch instead)")
	case errors.Is(err, social.ErrNotMatched):
		fail(w, http.StatusNotFound, codeNotMatched, "you are not matched with this user")
	// end of social
	// Safety (codes in safety.go)
	case errors.Is(err, safety.ErrSelf):
		fail(w, http.StatusBadRequest, codeSelfSwipe, "you cannot block or report yourself")
	case errors.As(err, &reports):
		retryAfter(w, reports.RetryAfter)
		fail(w, http.StatusTooManyRequests, codeReportQuota, "too many reports today")
	case errors.Is(err, auth.ErrSuspended):
		fail(w, http.StatusForbidden, codeSuspended, "this account is suspended")
	// end of safety
	// Conversations (chat)
	case errors.Is(err, chat.ErrSelf):
		fail(w, http.StatusBadRequest, codeSelfSwipe, "you cannot message yourself")
	case errors.Is(err, chat.ErrNotMatched):
		fail(w, http.StatusNotFound, codeNotMatched, "you are not matched with this user")
	// end of chat
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
