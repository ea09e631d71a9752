package httpapi

import (
	"math"
	"net/http"

	"github.com/swiper-social/swiper/internal/domain/input"
)

// API codes and page sizes of the conversations (API.md §3; 2001 and 2007
// are the social module's codes, in social.go).
const (
	defaultMessagePage = 50
	maxMessagePage     = 100
)

func (s *server) getConversations(w http.ResponseWriter, r *http.Request) error {
	var errs input.Errors
	limit := queryInt(r, &errs, "limit", defaultPageSize, 1, maxPageSize)
	page := queryInt(r, &errs, "page", 1, 1, math.MaxInt64)
	if err := errs.Err("invalid query"); err != nil {
		return err
	}
	res, err := s.Chat.Conversations(r.Context(), userID(r), int(limit), page)
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}

func (s *server) getMessages(w http.ResponseWriter, r *http.Request) error {
	var errs input.Errors
	other := pathUserID(r, &errs)
	limit := queryInt(r, &errs, "limit", defaultMessagePage, 1, maxMessagePage)
	before := queryInt(r, &errs, "before", 0, 1, math.MaxInt64)
	if err := errs.Err("invalid query"); err != nil {
		return err
	}
	res, err := s.Chat.Messages(r.Context(), userID(r), other, before, int(limit))
	if err != nil {
		return err
	}
	s.okAppended(w, res)
	return nil
}

func (s *server) sendMessage(w http.ResponseWriter, r *http.Request) error {
	m, err := readFields(w, r) // a body too large (4002) comes before bad input
	if err != nil {
		return err
	}
	var errs input.Errors
	other := pathUserID(r, &errs)
	text := stringField(m, &errs, "text")
	clientID := stringField(m, &errs, "client_id")
	if err := errs.Err("invalid message"); err != nil {
		return err
	}
	res, err := s.Chat.Send(r.Context(), userID(r), other, text, clientID)
	if err != nil {
		return err
	}
	ok(w, res)
	return nil
}

func (s *server) readMessages(w http.ResponseWriter, r *http.Request) error {
	m, err := readFields(w, r) // a body too large (4002) comes before bad input
	if err != nil {
		return err
	}
	var errs input.Errors
	other := pathUserID(r, &errs)
	var upTo int64
	if raw, present := m["up_to"]; !present || input.IsNull(raw) {
		errs.Missing("up_to")
	} else if upTo, err = positiveID(raw); err != nil {
		errs.Invalid("up_to", "must be a positive integer (a message id)")
	}
	if err := errs.Err("invalid read mark"); err != nil {
		return err
	}
	if err := s.Chat.Read(r.Context(), userID(r), other, upTo); err != nil {
		return err
	}
	ok(w, nil)
	return nil
}

// pathUserID reads the {user_id} of the path (1001 when it is not a
// positive integer).
func pathUserID(r *http.Request, errs *input.Errors) int64 {
	id, err := pathID(r, "user_id")
	if err != nil {
		errs.Invalid("user_id", "must be a positive integer")
	}
	return id
}

// stringField reads a required string field of a body: absent or null is
// missing (1000), another JSON type invalid (1001).
func stringField(m map[string][]byte, errs *input.Errors, name string) string {
	raw, present := m[name]
	if !present || input.IsNull(raw) {
		errs.Missing(name)
		return ""
	}
	v, isStr := input.String(raw)
	if !isStr {
		errs.Invalid(name, "must be a string")
	}
	return v
}
