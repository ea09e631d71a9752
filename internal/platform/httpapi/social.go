package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/social"
)

// API codes of the social module (API.md §1).
const (
	codeSelfSwipe      = 2001
	codeAlreadySwiped  = 2002
	codeLikeQuota      = 2003
	codeNothingToUndo  = 2004
	codeRewindTooOld   = 2005
	codeRewindQuota    = 2006
	codeNotMatched     = 2007
	codeTooFrequent    = 2008
	codeRewindMatched  = 2010
	defaultDeckSize    = 20
	defaultPageSize    = 20
	defaultRankSize    = 50
	maxDeckSize        = 50
	maxPageSize        = 100
	maxRankSize        = 100
	orderNewestMatches = "-matched_at"
	orderOldestMatches = "matched_at"
)

// queryInt reads an optional integer query parameter within [lo, hi]; a
// value that is not an integer or out of bounds is recorded in errs (1001),
// never clamped.
func queryInt(r *http.Request, errs *input.Errors, name string, def, lo, hi int64) int64 {
	vs, ok := r.URL.Query()[name]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || n < lo || n > hi || len(vs) > 1 {
		if hi == math.MaxInt64 {
			errs.Invalid(name, fmt.Sprintf("must be a whole number >= %d", lo))
		} else {
			errs.Invalid(name, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
		}
		return def
	}
	return n
}

func (s *server) getRecommendations(w http.ResponseWriter, r *http.Request) error {
	var errs input.Errors
	limit := queryInt(r, &errs, "limit", defaultDeckSize, 1, maxDeckSize)
	if err := errs.Err("invalid query"); err != nil {
		return err
	}
	cards, err := s.Social.Recommendations(r.Context(), userID(r), int(limit))
	if err != nil {
		return err
	}
	ok(w, cards)
	return nil
}

func (s *server) createSwipe(w http.ResponseWriter, r *http.Request) error {
	m, err := readFields(w, r)
	if err != nil {
		return err
	}
	var errs input.Errors
	var target int64
	if raw, present := m["user_id"]; !present || input.IsNull(raw) {
		errs.Missing("user_id")
	} else if target, err = positiveID(raw); err != nil {
		errs.Invalid("user_id", "must be a positive integer")
	}
	var action string
	if raw, present := m["action"]; !present || input.IsNull(raw) {
		errs.Missing("action")
	} else if v, isStr := input.String(raw); !isStr {
		errs.Invalid("action", "must be like, superlike or dislike")
	} else if _, known := social.ParseAction(v); !known {
		errs.Invalid("action", "must be like, superlike or dislike")
	} else {
		action = v
	}
	if err := errs.Err("invalid swipe"); err != nil {
		return err
	}
	res, err := s.Social.Swipe(r.Context(), userID(r), target, action)
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}

// positiveID decodes a JSON integer >= 1 that fits int64.
func positiveID(raw []byte) (int64, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] == '"' {
		return 0, fmt.Errorf("not a JSON number: %s", raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var n json.Number
	if err := dec.Decode(&n); err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("not a positive integer: %s", raw)
	}
	return id, nil
}

func (s *server) rewindSwipe(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Social.Rewind(r.Context(), userID(r))
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}

func (s *server) getLikesReceived(w http.ResponseWriter, r *http.Request) error {
	var errs input.Errors
	limit := queryInt(r, &errs, "limit", defaultPageSize, 1, maxPageSize)
	page := queryInt(r, &errs, "page", 1, 1, math.MaxInt64)
	if err := errs.Err("invalid query"); err != nil {
		return err
	}
	res, err := s.Social.LikesReceived(r.Context(), userID(r), int(limit), page)
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}

func (s *server) getMatches(w http.ResponseWriter, r *http.Request) error {
	var errs input.Errors
	limit := queryInt(r, &errs, "limit", defaultPageSize, 1, maxPageSize)
	page := queryInt(r, &errs, "page", 1, 1, math.MaxInt64)
	order := orderNewestMatches
	if vs, present := r.URL.Query()["order"]; present {
		order = vs[0]
		if (order != orderNewestMatches && order != orderOldestMatches) || len(vs) > 1 {
			errs.Invalid("order", "must be -matched_at or matched_at")
		}
	}
	if err := errs.Err("invalid query"); err != nil {
		return err
	}
	res, err := s.Social.Matches(r.Context(), userID(r), int(limit), page, order == orderOldestMatches)
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}

func (s *server) deleteMatch(w http.ResponseWriter, r *http.Request) error {
	other, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	if err := s.Social.Unmatch(r.Context(), userID(r), other); err != nil {
		return err
	}
	ok(w, nil)
	return nil
}

func (s *server) getRank(w http.ResponseWriter, r *http.Request) error {
	var errs input.Errors
	limit := queryInt(r, &errs, "limit", defaultRankSize, 1, maxRankSize)
	if err := errs.Err("invalid query"); err != nil {
		return err
	}
	res, err := s.Social.Rank(r.Context(), userID(r), int(limit))
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}
