// Package chat holds the conversations of matched users (API.md §3
// Conversations): sending (idempotent by client_id, rate limited over a
// rolling window), reading pages of messages, read marks and the list of
// conversations, and the message and read events they publish.
package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/batch"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Errors of the service; the HTTP layer maps them to API codes (unknown
// users are profile.ErrUserNotFound, 1003; the rate limit is
// *model.RateError, 2008).
var (
	ErrSelf       = errors.New("chat: you cannot message yourself") // 2001
	ErrNotMatched = errors.New("chat: not matched with this user")  // 2007
)

// Limits of the API.
const (
	MaxTextChars     = 1000
	MaxClientIDChars = 64
	MessagesPerSpan  = 20               // messages per sender …
	Span             = 10 * time.Second // … in any rolling span this long
)

// DefaultLimit is the send limit of API.md: 20 messages per sender per
// 10 s, a rolling window over all their conversations.
func DefaultLimit() model.RateRule {
	return model.RateRule{Name: "messages", Max: MessagesPerSpan, Per: Span}
}

// Store is what the service needs of the database (store.Store).
type Store interface {
	// Visible is the "unknown to me" check (1003) shared by every module.
	Visible(ctx context.Context, viewer, other int64) (bool, error)
	Conversation(ctx context.Context, me, other int64) (model.ConvState, error)
	MessageByClientID(ctx context.Context, sender, to int64, clientID string) (model.Message, error)
	// SendMessages stores messages in one transaction: one outcome per
	// message, in order.
	SendMessages(ctx context.Context, ms []model.NewMessage) ([]model.SendOutcome, error)
	// MessagesPage is a page of the conversation, whether there are more,
	// and its read marks (mine, the other's), in one read: ErrNotFound
	// when other is not visible to me (Visible) or not matched.
	MessagesPage(ctx context.Context, me, other, before int64, limit int) (ms []model.Message, more bool, myRead, otherRead int64, err error)
	MessagesByID(ctx context.Context, ids []int64) (map[int64]model.Message, error)
	MarkRead(ctx context.Context, reader, other, upTo int64) (model.ReadOutcome, error)
	Conversations(ctx context.Context, me int64, limit, offset int) ([]model.ConvState, int, error)
}

// Cards builds the Cards of users as a viewer sees them (profile.Service).
type Cards interface {
	Cards(ctx context.Context, viewer *model.User, ids []int64) (map[int64]profile.Card, error)
}

// Publisher announces events to users' streams (events.Service).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Outgoing) error
}

// Limiter counts sends in a rolling window (ratelimit.Rolling).
type Limiter interface {
	// TakeMany counts each action (subject, member) under r, in turn, in
	// one round trip: one RateTaken per action, or its *model.RateError.
	TakeMany(ctx context.Context, r model.RateRule, as []model.RateAction) ([]model.RateTaken, []error, error)
	// Release gives back the entry a take made (nothing when it made
	// none): a refused send does not count.
	Release(ctx context.Context, t model.RateTaken) error
}

// SendBatchSize is the most messages stored by one transaction (the
// group commit of sends, committer.go).
const SendBatchSize = 128

// SendResult is the outcome of one message of CommitSends or SendBatch.
type SendResult struct {
	model.SendOutcome
	// Limited is the *model.RateError of a message over the send limit
	// (nothing else was done).
	Limited error
	// Failed is why the message could not be stored (the database's
	// error; its limit entry is given back once it is known not stored).
	Failed error
	// Unpublished is why the message's events could not be published (it
	// is stored: its retry publishes them); nil when they were.
	Unpublished error
	// pub is the publication of the events of a stored message's batch
	// (SendBatch), which Unpublished waits for.
	pub *publication
}

// Deps are the collaborators of Service.
type Deps struct {
	Store Store
	// SendShards is how many send committers run (committer.go; 0:
	// SendShards); negative: none, each message is sent alone
	// (CommitSends).
	SendShards int
	Cards      Cards
	User       func(ctx context.Context, id int64) (model.User, error) // the viewer of the Cards (through the user cache)
	Events     Publisher
	Limiter    Limiter
	Limit      model.RateRule // DefaultLimit()
	Clock      clock.Clock
	Log        *slog.Logger
}

// Service is the chat module.
type Service struct {
	d     Deps
	sends batch.Shards[model.NewMessage, SendResult] // the send committers (committer.go); nil: none
	pub   *inOrder                                   // the events of SendBatch's batches (publisher.go)
}

// New returns a Service and starts its send committers (Close stops
// them).
func New(d Deps) *Service {
	s := &Service{d: d, pub: newInOrder(d.Events)}
	if d.SendShards >= 0 {
		s.sends = s.newSendShards(d.SendShards)
	}
	return s
}

// Close answers the messages queued (later sends get 503), publishes the
// events of the batches committed and stops: called after the HTTP
// server drained, before the database closes. It may be called again.
func (s *Service) Close() {
	s.sends.Close()
	s.pub.close()
}

// SendBatches counts the transactions that stored messages and the
// messages they carried.
func (s *Service) SendBatches() batch.Stats { return s.sends.Stats() }

// Time is a time written as RFC 3339 UTC with milliseconds.
type Time time.Time

// MarshalJSON writes t as "2006-01-02T15:04:05.000Z".
func (t Time) MarshalJSON() ([]byte, error) {
	return t.appendJSON(make([]byte, 0, 26)), nil
}

// appendJSON appends t as MarshalJSON writes it. Written out digit by
// digit for the years 0 to 9999 (time.Time.AppendFormat parses its layout
// each time: a fifth of a page's JSON); other years through the layout.
func (t Time) appendJSON(b []byte) []byte {
	u := time.Time(t).UTC()
	year, month, day := u.Date()
	if year < 0 || year > 9999 {
		return append(u.AppendFormat(append(b, '"'), timeLayout), '"')
	}
	hour, minute, sec := u.Clock()
	ms := u.Nanosecond() / 1e6
	b = append(b, '"')
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), sec, 2)
	b = appendDigits(append(b, '.'), ms, 3)
	return append(b, 'Z', '"')
}

// appendDigits appends the n last decimal digits of v (v >= 0).
func appendDigits(b []byte, v, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		d := v
		for range i {
			d /= 10
		}
		b = append(b, byte('0'+d%10))
	}
	return b
}

// UnmarshalJSON reads an RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	var v time.Time
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	*t = Time(v)
	return nil
}

// Message is a message of the API.
type Message struct {
	ID       int64  `json:"id"`
	From     int64  `json:"from"`
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
	SentAt   Time   `json:"sent_at"`
	Read     bool   `json:"read"` // the recipient has read it
}

// Conversation is a conversation as one of its users sees it.
type Conversation struct {
	User        profile.Card `json:"user"`
	MatchedAt   time.Time    `json:"matched_at"`
	LastMessage *Message     `json:"last_message"`
	Unread      int          `json:"unread"`
}

// ConversationsPage is one page of my conversations.
type ConversationsPage struct {
	Total         int            `json:"total"`
	Conversations []Conversation `json:"conversations"`
}

// MessagesPage is one page of a conversation, newest first.
type MessagesPage struct {
	Messages []Message `json:"messages"`
	HasMore  bool      `json:"has_more"`
}

// MessageEvent is the data of a message event: UserID is the other user
// of the conversation, as the recipient of the event sees it.
type MessageEvent struct {
	UserID  int64   `json:"user_id"`
	Message Message `json:"message"`
}

// ReadEvent is the data of a read event, sent to the other user.
type ReadEvent struct {
	UserID int64 `json:"user_id"` // the reader
	UpTo   int64 `json:"up_to"`
}

// CleanText applies the text rule: trimmed of surrounding white space,
// 1-1000 Unicode characters, no control characters but newline. It returns
// the text to store, or why it is invalid.
func CleanText(s string) (string, string) {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' {
			return "", "must not contain control characters other than newline"
		}
	}
	t := strings.TrimSpace(s)
	if n := utf8.RuneCountInString(t); n < 1 || n > MaxTextChars {
		return "", fmt.Sprintf("must be 1 to %d characters after trimming", MaxTextChars)
	}
	return t, ""
}

// CheckClientID applies the client_id rule (1-64 of A-Z a-z 0-9 _ -): ""
// when valid, else why not.
func CheckClientID(s string) string {
	if len(s) < 1 || len(s) > MaxClientIDChars {
		return fmt.Sprintf("must be 1 to %d characters of A-Z a-z 0-9 _ -", MaxClientIDChars)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Sprintf("must be 1 to %d characters of A-Z a-z 0-9 _ -", MaxClientIDChars)
		}
	}
	return ""
}

// ReadTo reports whether message m of the conversation is read by its
// recipient, given the two read marks of the conversation as me sees it.
func ReadTo(m model.Message, me int64, st model.ConvState) bool {
	if m.SenderID == me {
		return st.OtherRead >= m.ID
	}
	return st.MyRead >= m.ID
}

// MessageOf is the API Message of a stored one.
func MessageOf(m model.Message, read bool) Message {
	return Message{ID: m.ID, From: m.SenderID, Text: m.Text, ClientID: m.ClientID, SentAt: Time(m.SentAt.UTC()), Read: read}
}

// ShouldPublishRead reports whether a read answers with a read event: when
// the mark moved to upTo, or already stood there (a retry of a read whose
// event was not published; the event's key makes it count once).
func ShouldPublishRead(out model.ReadOutcome, upTo int64) bool {
	return out.InConversation && (out.Moved || out.Mark == upTo)
}

// peer checks that other is someone me can talk to at all: not me (2001)
// and known to me (1003).
func (s *Service) peer(ctx context.Context, me, other int64) error {
	if me == other {
		return ErrSelf
	}
	ok, err := s.d.Store.Visible(ctx, me, other)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %d", profile.ErrUserNotFound, other)
	}
	return nil
}

// conversation reads the state of the conversation of me with other
// (ErrNotMatched when there is none).
func (s *Service) conversation(ctx context.Context, me, other int64) (model.ConvState, error) {
	st, err := s.d.Store.Conversation(ctx, me, other)
	if errors.Is(err, model.ErrNotFound) {
		return model.ConvState{}, ErrNotMatched
	}
	return st, err
}

// Send sends text from me to other (API.md §3 Conversations): the same
// clientID again answers the first message and creates nothing; a new
// message counts toward the rolling send limit. Both users get a message
// event; when it cannot be published the send fails (503) with the
// message stored, and its retry publishes it.
//
// The message is stored and published with the concurrent ones
// (SendBatch): the limit taken, the checks that other is known to me
// (1003) and matched (2007), the transaction and the events, each once
// for the whole batch.
func (s *Service) Send(ctx context.Context, me, other int64, text, clientID string) (Message, error) {
	var errs input.Errors
	text, why := CleanText(text)
	if why != "" {
		errs.Invalid("text", why)
	}
	if why := CheckClientID(clientID); why != "" {
		errs.Invalid("client_id", why)
	}
	if err := errs.Err("invalid message"); err != nil {
		return Message{}, err
	}
	if me == other {
		return Message{}, ErrSelf
	}
	res, err := s.commitSend(ctx, model.NewMessage{From: me, To: other, ClientID: clientID, Text: text,
		SentAt: s.d.Clock.Now().UTC().Truncate(time.Millisecond)})
	switch {
	case err != nil:
		return Message{}, err
	case res.Limited != nil:
		return s.sendOverLimit(ctx, me, other, clientID, res.Limited)
	case res.Failed != nil:
		return Message{}, res.Failed
	case res.Hidden:
		return Message{}, fmt.Errorf("%w: %d", profile.ErrUserNotFound, other)
	case res.Unmatched:
		return Message{}, ErrNotMatched
	}
	m := MessageOf(res.Message, res.Read)
	if res.Unpublished != nil {
		return m, fmt.Errorf("chat: publish message %d: %w", m.ID, backend.Unavailable(res.Unpublished))
	}
	return m, nil
}

// sendOverLimit answers a send the rolling limit refused: the refusals
// of a send to someone unknown (1003) or unmatched (2007) come first, and
// a retry of a stored message answers it (and publishes it again: its key
// makes the event count once), whatever the limit.
func (s *Service) sendOverLimit(ctx context.Context, me, other int64, clientID string, limit error) (Message, error) {
	if err := s.peer(ctx, me, other); err != nil {
		return Message{}, err
	}
	st, err := s.conversation(ctx, me, other)
	if err != nil {
		return Message{}, err
	}
	first, err := s.d.Store.MessageByClientID(ctx, me, other, clientID)
	switch {
	case errors.Is(err, model.ErrNotFound):
		return Message{}, limit
	case err != nil:
		return Message{}, err
	}
	m := MessageOf(first, ReadTo(first, me, st))
	return m, s.publishMessage(ctx, me, other, m)
}

// commitSend stores m through the committer (or alone without one).
func (s *Service) commitSend(ctx context.Context, m model.NewMessage) (SendResult, error) {
	if s.sends == nil {
		out, err := s.CommitSends(ctx, []model.NewMessage{m})
		if err != nil {
			return SendResult{}, err
		}
		return out[0], nil
	}
	res, err := s.sends.Do(ctx, convKey(m.From, m.To), m)
	if errors.Is(err, batch.ErrClosed) { // shutting down
		return SendResult{}, backend.Unavailable(err)
	}
	if err == nil && res.pub != nil {
		<-res.pub.done
		res.Unpublished = res.pub.err
	}
	return res, err
}

// CommitSends sends ms: it takes their entries of the rolling limit (one
// round trip; the entry is named by the conversation and client_id, so
// concurrent retries of one send count once), stores those within the
// limit in one transaction (Store.SendMessages), gives back the entries of
// the refused ones, then publishes the message events of every stored one
// (both users', keyed by the message's id: a retry publishes what its
// first send could not, and nothing twice) in one call. A failed
// publication is the Unpublished of every stored message; a failed
// transaction the Failed of every message it carried. The error is the
// limit's (nothing stored).
func (s *Service) CommitSends(ctx context.Context, ms []model.NewMessage) ([]SendResult, error) {
	res, evs, err := s.storeSends(ctx, ms)
	if err != nil || len(evs) == 0 {
		return res, err
	}
	if err := s.d.Events.Publish(ctx, evs...); err != nil {
		for i := range res {
			if published(res[i]) {
				res[i].Unpublished = err
			}
		}
	}
	return res, nil
}

// storeSends is CommitSends up to the publication: the results, and the
// events of the stored messages to publish.
func (s *Service) storeSends(ctx context.Context, ms []model.NewMessage) ([]SendResult, []events.Outgoing, error) {
	as := make([]model.RateAction, len(ms))
	for i, m := range ms {
		as[i] = model.RateAction{Subject: strconv.FormatInt(m.From, 10), Member: strconv.FormatInt(m.To, 10) + ":" + m.ClientID}
	}
	taken, limited, err := s.d.Limiter.TakeMany(ctx, s.d.Limit, as)
	if err != nil {
		return nil, nil, err
	}
	res := make([]SendResult, len(ms))
	var idx []int // of the messages within the limit
	var within []model.NewMessage
	for i, m := range ms {
		if limited[i] != nil {
			res[i].Limited = limited[i]
			continue
		}
		idx = append(idx, i)
		within = append(within, m)
	}
	if len(within) == 0 {
		return res, nil, nil
	}
	out, err := s.d.Store.SendMessages(ctx, within)
	if err != nil {
		// A failed send consumes nothing: the entry is given back once the
		// message is known not to be stored (a lost commit answer may have
		// stored it; while that is unknown, the retry reuses the entry).
		for _, i := range idx {
			res[i].Failed = err
			m := ms[i]
			if _, lerr := s.d.Store.MessageByClientID(ctx, m.From, m.To, m.ClientID); errors.Is(lerr, model.ErrNotFound) {
				s.release(ctx, m.From, taken[i])
			}
		}
		return res, nil, nil
	}
	cut := s.d.Clock.Now().Add(-s.d.Limit.Per)
	evs := make([]events.Outgoing, 0, 2*len(within))
	seen := make(map[int64]bool, len(within))
	for j, o := range out {
		i := idx[j]
		res[i].SendOutcome = o
		switch {
		case o.Hidden || o.Unmatched: // refused, so not counted
			s.release(ctx, ms[i].From, taken[i])
			continue
		case !o.Created && o.Message.SentAt.Before(cut):
			// A retry after its first send's entry left the window: the
			// first send counted, this one does not.
			s.release(ctx, ms[i].From, taken[i])
		}
		if seen[o.Message.ID] {
			continue
		}
		seen[o.Message.ID] = true
		evs = append(evs, messageEvents(ms[i].From, ms[i].To, MessageOf(o.Message, o.Read))...)
	}
	return res, evs, nil
}

// SendBatch is CommitSends as the run of a send committer (committer.go):
// the events of the stored messages are queued to be published in commit
// order while the committer goes on with the next batch, and each stored
// message's caller waits for them (commitSend).
func (s *Service) SendBatch(ctx context.Context, ms []model.NewMessage) ([]SendResult, error) {
	res, evs, err := s.storeSends(ctx, ms)
	if err != nil || len(evs) == 0 {
		return res, err
	}
	p := s.pub.add(evs)
	for i := range res {
		if published(res[i]) {
			res[i].pub = p
		}
	}
	return res, nil
}

// published reports whether r is a message whose events its batch
// publishes: stored (or found stored) within the limit and not refused.
func published(r SendResult) bool {
	return r.Limited == nil && r.Failed == nil && !r.Hidden && !r.Unmatched
}

// release gives back a send's entry of the rolling limit (a refused send
// does not count); a failure is logged: the entry then expires with its
// window.
func (s *Service) release(ctx context.Context, me int64, taken model.RateTaken) {
	if err := s.d.Limiter.Release(context.WithoutCancel(ctx), taken); err != nil {
		s.d.Log.WarnContext(ctx, "message limit entry not released", "user_id", me, "err", err)
	}
}

// publishMessage publishes m to both users of the conversation (the
// sender's other devices too), keyed by its id.
func (s *Service) publishMessage(ctx context.Context, me, other int64, m Message) error {
	if err := s.d.Events.Publish(ctx, messageEvents(me, other, m)...); err != nil {
		return fmt.Errorf("chat: publish message %d: %w", m.ID, backend.Unavailable(err))
	}
	return nil
}

// messageEvents are the events of message m from me to other: one to
// each user (the sender's other devices too), keyed by its id.
func messageEvents(me, other int64, m Message) []events.Outgoing {
	key := "msg:" + strconv.FormatInt(m.ID, 10)
	return []events.Outgoing{
		{To: other, Type: events.TypeMessage, Data: MessageEvent{UserID: me, Message: m}, Key: key},
		{To: me, Type: events.TypeMessage, Data: MessageEvent{UserID: other, Message: m}, Key: key},
	}
}

// Messages returns a page of the conversation of me with other, newest
// first, only ids below before when before > 0.
func (s *Service) Messages(ctx context.Context, me, other, before int64, limit int) (MessagesPage, error) {
	ms, more, myRead, otherRead, err := s.d.Store.MessagesPage(ctx, me, other, before, limit)
	if errors.Is(err, model.ErrNotFound) {
		// Myself (2001), not visible (1003) or not matched (2007): the
		// peer check says which, in the order of the other routes.
		if err := s.peer(ctx, me, other); err != nil {
			return MessagesPage{}, err
		}
		return MessagesPage{}, ErrNotMatched
	}
	if err != nil {
		return MessagesPage{}, err
	}
	st := model.ConvState{MyRead: myRead, OtherRead: otherRead}
	out := MessagesPage{Messages: make([]Message, len(ms)), HasMore: more}
	for i, m := range ms {
		out.Messages[i] = MessageOf(m, ReadTo(m, me, st))
	}
	return out, nil
}

// Read marks every message to me with id <= upTo in the conversation with
// other as read (upTo must be the id of one of its messages: 1001); the
// mark never moves back. The other user gets a read event when it moved.
func (s *Service) Read(ctx context.Context, me, other, upTo int64) error {
	if err := s.peer(ctx, me, other); err != nil {
		return err
	}
	out, err := s.d.Store.MarkRead(ctx, me, other, upTo)
	if errors.Is(err, model.ErrNotFound) {
		return ErrNotMatched
	}
	if err != nil {
		return err
	}
	if !out.InConversation {
		return input.Invalid("up_to", "is not the id of a message of this conversation")
	}
	if !ShouldPublishRead(out, upTo) {
		return nil
	}
	if err := s.d.Events.Publish(ctx, events.Outgoing{To: other, Type: events.TypeRead,
		Data: ReadEvent{UserID: me, UpTo: upTo}, Key: "read:" + strconv.FormatInt(me, 10) + ":" + strconv.FormatInt(upTo, 10)}); err != nil {
		return fmt.Errorf("chat: publish read of %d: %w", me, backend.Unavailable(err))
	}
	return nil
}

// Conversations lists my conversations, latest activity first.
func (s *Service) Conversations(ctx context.Context, me int64, limit int, page int64) (ConversationsPage, error) {
	viewer, err := s.d.User(ctx, me)
	if errors.Is(err, model.ErrNotFound) {
		return ConversationsPage{}, fmt.Errorf("%w: %d", profile.ErrUserNotFound, me)
	}
	if err != nil {
		return ConversationsPage{}, err
	}
	cs, total, err := s.d.Store.Conversations(ctx, me, limit, offset(limit, page))
	if err != nil {
		return ConversationsPage{}, err
	}
	ids := make([]int64, len(cs))
	var lastIDs []int64
	for i, c := range cs {
		ids[i] = c.OtherID
		if c.LastMessageID > 0 {
			lastIDs = append(lastIDs, c.LastMessageID)
		}
	}
	cards, err := s.d.Cards.Cards(ctx, &viewer, ids)
	if err != nil {
		return ConversationsPage{}, err
	}
	last, err := s.d.Store.MessagesByID(ctx, lastIDs)
	if err != nil {
		return ConversationsPage{}, err
	}
	out := ConversationsPage{Total: total, Conversations: make([]Conversation, 0, len(cs))}
	for _, c := range cs {
		card, ok := cards[c.OtherID]
		if !ok {
			continue // gone since
		}
		conv := Conversation{User: card, MatchedAt: c.MatchedAt.UTC(), Unread: c.Unread}
		if m, ok := last[c.LastMessageID]; ok {
			lm := MessageOf(m, ReadTo(m, me, c))
			conv.LastMessage = &lm
		}
		out.Conversations = append(out.Conversations, conv)
	}
	return out, nil
}

// offset is the row offset of a page, capped far beyond any real total.
func offset(limit int, page int64) int {
	const maxOffset = 1 << 30
	if page < 1 {
		page = 1
	}
	if page-1 > int64(maxOffset/limit) {
		return maxOffset
	}
	return int(page-1) * limit
}
