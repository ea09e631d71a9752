package httpapi

import (
	"math"
	"net/http"

	"github.com/swiper-social/swiper/internal/domain/input"
)

// API codes of the safety module (API.md §1).
const (
	codeReportQuota = 2009
	codeSuspended   = 1013
)

// userIDField reads the user_id field of a body (1000 when missing, 1001
// when not a positive integer) into errs.
func userIDField(m map[string][]byte, errs *input.Errors) int64 {
	raw, present := m["user_id"]
	if !present || input.IsNull(raw) {
		errs.Missing("user_id")
		return 0
	}
	id, err := positiveID(raw)
	if err != nil {
		errs.Invalid("user_id", "must be a positive integer")
	}
	return id
}

func (s *server) createBlock(w http.ResponseWriter, r *http.Request) error {
	m, err := readFields(w, r)
	if err != nil {
		return err
	}
	var errs input.Errors
	other := userIDField(m, &errs)
	if err := errs.Err("invalid block"); err != nil {
		return err
	}
	if err := s.Safety.Block(r.Context(), userID(r), other); err != nil {
		return err
	}
	ok(w, nil)
	return nil
}

func (s *server) deleteBlock(w http.ResponseWriter, r *http.Request) error {
	other, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	if err := s.Safety.Unblock(r.Context(), userID(r), other); err != nil {
		return err
	}
	ok(w, nil)
	return nil
}

func (s *server) getBlocks(w http.ResponseWriter, r *http.Request) error {
	var errs input.Errors
	limit := queryInt(r, &errs, "limit", defaultPageSize, 1, maxPageSize)
	page := queryInt(r, &errs, "page", 1, 1, math.MaxInt64)
	if err := errs.Err("invalid query"); err != nil {
		return err
	}
	res, err := s.Safety.Blocked(r.Context(), userID(r), int(limit), page)
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}

func (s *server) createReport(w http.ResponseWriter, r *http.Request) error {
	m, err := readFields(w, r)
	if err != nil {
		return err
	}
	var errs input.Errors
	other := userIDField(m, &errs)
	var reason, note string
	if raw, present := m["reason"]; !present || input.IsNull(raw) {
		errs.Missing("reason")
	} else if v, isStr := input.String(raw); !isStr {
		errs.Invalid("reason", "must be a string")
	} else {
		reason = v
	}
	if raw, present := m["note"]; present && !input.IsNull(raw) {
		if v, isStr := input.String(raw); !isStr {
			errs.Invalid("note", "must be a string")
		} else {
			note = v
		}
	}
	if err := errs.Err("invalid report"); err != nil {
		return err
	}
	id, err := s.Safety.Report(r.Context(), userID(r), other, reason, note)
	if err != nil {
		return err
	}
	ok(w, struct {
		ID int64 `json:"id"`
	}{id})
	return nil
}

func (s *server) deleteMe(w http.ResponseWriter, r *http.Request) error {
	if err := s.Safety.DeleteAccount(r.Context(), userID(r)); err != nil {
		return err
	}
	// The session is revoked with the account; the cookie goes too.
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: fromTLS(r, s.TrustedProxies)})
	ok(w, nil)
	return nil
}

func (s *server) getExport(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Safety.Export(r.Context(), userID(r))
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}
