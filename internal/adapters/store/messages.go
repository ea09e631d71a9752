package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// Conversations (API.md §3): every match has one. Its state lives on the
// match row (migration 00012): the last message, each side's read mark and
// unread count, and active_at (last message, else matched_at). The rules
// are the chat module's; these are its rows.

// convRow is the conversation columns of a matches row.
type convRow struct {
	UserA         int64         `bun:"user_a"`
	UserB         int64         `bun:"user_b"`
	MatchedAt     time.Time     `bun:"matched_at"`
	LastMessageID sql.NullInt64 `bun:"last_message_id"`
	LastMessageAt *time.Time    `bun:"last_message_at"`
	ReadA         int64         `bun:"read_a"`
	ReadB         int64         `bun:"read_b"`
	UnreadA       int           `bun:"unread_a"`
	UnreadB       int           `bun:"unread_b"`
}

func (c convRow) stateOf(me int64) ConvState {
	st := ConvState{MatchedAt: c.MatchedAt, LastMessageID: c.LastMessageID.Int64}
	if me == c.UserA {
		st.OtherID, st.MyRead, st.OtherRead, st.Unread = c.UserB, c.ReadA, c.ReadB, c.UnreadA
	} else {
		st.OtherID, st.MyRead, st.OtherRead, st.Unread = c.UserA, c.ReadB, c.ReadA, c.UnreadB
	}
	return st
}

const convColumns = "user_a, user_b, matched_at, last_message_id, last_message_at, read_a, read_b, unread_a, unread_b"

// convIn reads the conversation row of a and b in tx, locked for the rest
// of tx on MySQL (sends and reads of one pair serialise on it); ErrNotFound
// when they are not matched.
func (s *Store) convIn(ctx context.Context, tx bun.Tx, a, b int64) (convRow, error) {
	x, y := pair(a, b)
	var c convRow
	err := s.forUpdate(tx.NewSelect().TableExpr("matches").ColumnExpr(convColumns).
		Where("user_a = ? AND user_b = ?", x, y)).Scan(ctx, &c)
	return c, err
}

// Conversation returns the state of the conversation of me with other
// (ErrNotFound when they are not matched).
func (s *Store) Conversation(ctx context.Context, me, other int64) (ConvState, error) {
	x, y := pair(me, other)
	var c convRow
	if err := s.db.NewSelect().TableExpr("matches").ColumnExpr(convColumns).
		Where("user_a = ? AND user_b = ?", x, y).Scan(ctx, &c); err != nil {
		return ConvState{}, fmt.Errorf("store: conversation %d/%d: %w", me, other, classify(err))
	}
	return c.stateOf(me), nil
}

// MessageByClientID returns the message client_id of sender in the
// conversation of sender and to (ErrNotFound when there is none): a retry
// answers it again.
func (s *Store) MessageByClientID(ctx context.Context, sender, to int64, clientID string) (Message, error) {
	x, y := pair(sender, to)
	var m Message
	if err := s.db.NewSelect().Model(&m).Where("user_a = ? AND user_b = ? AND sender_id = ? AND client_id = ?", x, y, sender, clientID).
		Scan(ctx); err != nil {
		return Message{}, fmt.Errorf("store: message %q of %d: %w", clientID, sender, classify(err))
	}
	return m, nil
}

// SendMessage stores m (SendMessages of one); ErrNotFound when the two
// are not matched or m.To is unknown to m.From.
func (s *Store) SendMessage(ctx context.Context, m NewMessage) (Sent, error) {
	out, err := s.SendMessages(ctx, []NewMessage{m})
	if err != nil {
		return Sent{}, err
	}
	if out[0].Hidden || out[0].Unmatched {
		return Sent{}, fmt.Errorf("store: send from %d to %d: %w", m.From, m.To, ErrNotFound)
	}
	return out[0].Sent, nil
}

// SendMessages stores ms in one transaction with the state of their
// conversations (last message, the recipient's unread count), and returns
// one outcome per message, in order. A message whose recipient is unknown
// to its sender (Visible) or who is not matched with them is refused
// (Hidden, Unmatched). The conversations' match rows are locked first, in
// key order, so that sends and reads of a pair serialise on them across
// replicas: ids and sent_at increase together within a conversation
// (sent_at is raised to the last message's when a replica's clock is
// behind). The unique key (pair, sender, client_id) decides a retry: the
// first message is returned, created nothing (Created false), whether it
// was stored before or earlier in ms.
//
// Statements: the match rows with both users' visibility (one read,
// locking), one multi-row INSERT, one UPDATE of the match rows; plus one
// read of the first messages when ms retries any, and one visibility read
// when any pair is not matched.
func (s *Store) SendMessages(ctx context.Context, ms []NewMessage) ([]model.SendOutcome, error) {
	var out []model.SendOutcome
	err := s.inReadCommittedTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.sendIn(ctx, tx, ms)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: send %d messages: %w", len(ms), classify(err))
	}
	return out, nil
}

// msgKey names a message by its unique key.
type msgKey struct {
	x, y, from int64
	clientID   string
}

// sendConv is a conversation of a batch of sends: its match row and what
// the batch does to it.
type sendConv struct {
	convRow
	aShown, bShown, free bool
	at                   time.Time // the sent_at of its latest message so far
	lastID               int64     // the id of its latest new message (0: none)
	lastAt               time.Time // and its sent_at
	unreadA, unreadB     int
}

// sendConvRow is a row of sendConvs' read.
type sendConvRow struct {
	convRow
	AShown bool `bun:"a_shown"`
	BShown bool `bun:"b_shown"`
	Free   bool `bun:"free"`
}

// sendIn is SendMessages in tx.
func (s *Store) sendIn(ctx context.Context, tx bun.Tx, ms []NewMessage) ([]model.SendOutcome, error) {
	out := make([]model.SendOutcome, len(ms))
	convs, err := s.sendConvs(ctx, tx, ms)
	if err != nil {
		return nil, err
	}
	first, rows, unmatched := triageSends(ms, convs, out)
	if err := s.markUnmatched(ctx, tx, ms, unmatched, out); err != nil {
		return nil, err
	}
	stored, err := s.insertMessages(ctx, tx, ms, rows, convs)
	if err != nil {
		return nil, err
	}
	if err := s.readStoredBefore(ctx, tx, ms, rows, stored); err != nil {
		return nil, err
	}
	if err := s.updateConvs(ctx, tx, convs); err != nil {
		return nil, err
	}
	if err := fillSent(ms, convs, first, stored, out); err != nil {
		return nil, err
	}
	return out, nil
}

// triageSends decides what is refused and what is new. The indexes of ms
// whose pairs have no match row go to unmatched (for markUnmatched); a
// message whose recipient is not shown or whose pair has a block (sendConvs'
// read) is marked Hidden in out. Of the others, rows are the indexes of ms
// to insert, the first of each key, and first maps each key to that index.
func triageSends(ms []NewMessage, convs map[[2]int64]*sendConv, out []model.SendOutcome) (first map[msgKey]int, rows, unmatched []int) {
	first = map[msgKey]int{}
	for i, m := range ms {
		x, y := pair(m.From, m.To)
		c, ok := convs[[2]int64{x, y}]
		if !ok {
			unmatched = append(unmatched, i)
			continue
		}
		if shown := c.aShown; m.To == y {
			if shown = c.bShown; !shown || !c.free {
				out[i].Hidden = true
				continue
			}
		} else if !shown || !c.free {
			out[i].Hidden = true
			continue
		}
		k := msgKey{x, y, m.From, m.ClientID}
		if _, ok := first[k]; ok {
			continue
		}
		first[k] = i
		rows = append(rows, i)
	}
	return first, rows, unmatched
}

// markUnmatched marks the messages of ms at the indexes unmatched, whose
// pairs are not matched, Hidden or Unmatched in out: unknown to the sender
// first (1003 before 2007).
func (s *Store) markUnmatched(ctx context.Context, tx bun.Tx, ms []NewMessage, unmatched []int, out []model.SendOutcome) error {
	for _, i := range unmatched {
		ok, err := s.visibleIn(ctx, tx, ms[i].From, ms[i].To)
		if err != nil {
			return err
		}
		out[i].Hidden, out[i].Unmatched = !ok, ok
	}
	return nil
}

// readStoredBefore adds to stored the messages of the keys of rows that
// insertMessages did not store now: they were stored before, and a retry
// answers their first message.
func (s *Store) readStoredBefore(ctx context.Context, tx bun.Tx, ms []NewMessage, rows []int, stored map[msgKey]Sent) error {
	var dups []msgKey
	for _, i := range rows {
		m := ms[i]
		x, y := pair(m.From, m.To)
		if k := (msgKey{x, y, m.From, m.ClientID}); stored[k].Message.ID == 0 {
			dups = append(dups, k)
		}
	}
	if len(dups) == 0 {
		return nil
	}
	before, err := s.messagesByKey(ctx, tx, dups)
	if err != nil {
		return err
	}
	for k, m := range before {
		stored[k] = Sent{Message: m}
	}
	return nil
}

// fillSent sets the Sent of every accepted message of ms in out from stored.
// Only the first message of a key created anything; the others, and those
// stored before, are retries, which answer whether the recipient has read
// the message.
func fillSent(ms []NewMessage, convs map[[2]int64]*sendConv, first map[msgKey]int, stored map[msgKey]Sent, out []model.SendOutcome) error {
	for i, m := range ms {
		if out[i].Hidden || out[i].Unmatched {
			continue
		}
		x, y := pair(m.From, m.To)
		k := msgKey{x, y, m.From, m.ClientID}
		sent, ok := stored[k]
		if !ok || sent.Message.ID == 0 {
			return fmt.Errorf("message %q of %d neither stored nor found", m.ClientID, m.From)
		}
		sent.Created = sent.Created && first[k] == i
		if !sent.Created {
			c := convs[[2]int64{x, y}]
			read := c.ReadA
			if m.To == y {
				read = c.ReadB
			}
			sent.Read = read >= sent.Message.ID
		}
		out[i].Sent = sent
	}
	return nil
}

// sendConvs reads and locks the match rows of the pairs of ms, in key
// order, with whether each user is shown and whether neither blocked the
// other (one statement; the visibility subqueries lock nothing).
func (s *Store) sendConvs(ctx context.Context, tx bun.Tx, ms []NewMessage) (map[[2]int64]*sendConv, error) {
	seen := map[[2]int64]bool{}
	var args []any
	var in strings.Builder
	for _, m := range ms {
		x, y := pair(m.From, m.To)
		if seen[[2]int64{x, y}] {
			continue
		}
		seen[[2]int64{x, y}] = true
		if len(args) > 0 {
			in.WriteString(", ")
		}
		in.WriteString("(?, ?)")
		args = append(args, x, y)
	}
	q := "SELECT " + convColumns + ", " +
		"EXISTS (SELECT 1 FROM users AS pv WHERE pv.id = matches.user_a AND " + shownSQL("pv") + ") AS a_shown, " +
		"EXISTS (SELECT 1 FROM users AS pv WHERE pv.id = matches.user_b AND " + shownSQL("pv") + ") AS b_shown, " +
		"(" + notBlockedSQL("matches.user_a", "matches.user_b") + ") AS free " +
		"FROM matches" + s.byPrimaryKey() + " WHERE (user_a, user_b) IN (" + in.String() + ") ORDER BY user_a, user_b" + s.forUpdateSQL()
	var rows []sendConvRow
	if err := tx.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make(map[[2]int64]*sendConv, len(rows))
	for _, r := range rows {
		c := &sendConv{convRow: r.convRow, aShown: r.AShown, bShown: r.BShown, free: r.Free}
		if c.LastMessageAt != nil {
			c.at = c.LastMessageAt.UTC()
		}
		out[[2]int64{c.UserA, c.UserB}] = c
	}
	return out, nil
}

// visibleIn is Visible in tx.
func (s *Store) visibleIn(ctx context.Context, tx bun.Tx, viewer, other int64) (bool, error) {
	n, err := tx.NewSelect().TableExpr("users AS u").Where("u.id = ?", other).
		Where(shownSQL("u") + " AND " + notBlockedSQL(strconv.FormatInt(viewer, 10), "u.id")).Count(ctx)
	return n > 0, err
}

// insertMessages inserts the messages rows of ms (one multi-row INSERT
// that skips the keys stored before) and returns what it stored, by key,
// counting them in their conversations.
func (s *Store) insertMessages(ctx context.Context, tx bun.Tx, ms []NewMessage, rows []int, convs map[[2]int64]*sendConv) (map[msgKey]Sent, error) {
	stored := make(map[msgKey]Sent, len(rows))
	if len(rows) == 0 {
		return stored, nil
	}
	var q strings.Builder
	q.WriteString(s.insertIgnore())
	q.WriteString("messages (user_a, user_b, sender_id, client_id, text, sent_at) VALUES ")
	args := make([]any, 0, 6*len(rows))
	ats := make(map[msgKey]time.Time, len(rows))
	for n, i := range rows {
		m := ms[i]
		x, y := pair(m.From, m.To)
		c := convs[[2]int64{x, y}]
		at := m.SentAt.UTC()
		if at.Before(c.at) {
			at = c.at
		}
		c.at = at
		ats[msgKey{x, y, m.From, m.ClientID}] = at
		if n > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, x, y, m.From, m.ClientID, m.Text, at)
	}
	q.WriteString(" RETURNING id, user_a, user_b, sender_id, client_id")
	res, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	for res.Next() {
		var k msgKey
		var id int64
		if err := res.Scan(&id, &k.x, &k.y, &k.from, &k.clientID); err != nil {
			return nil, err
		}
		stored[k] = Sent{Created: true, Message: Message{ID: id, UserA: k.x, UserB: k.y, SenderID: k.from, ClientID: k.clientID, SentAt: ats[k]}}
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	for _, i := range rows {
		m := ms[i]
		x, y := pair(m.From, m.To)
		k := msgKey{x, y, m.From, m.ClientID}
		st, ok := stored[k]
		if !ok {
			continue
		}
		st.Message.Text = m.Text
		stored[k] = st
		c := convs[[2]int64{x, y}]
		if st.Message.ID <= c.LastMessageID.Int64 {
			// An id allocated before the last message was seen (a
			// multi-writer cluster's node whose counter lagged): taken
			// again, it follows the last one.
			return nil, errRaced
		}
		if st.Message.ID > c.lastID {
			c.lastID, c.lastAt = st.Message.ID, st.Message.SentAt
		}
		if m.To == y {
			c.unreadB++
		} else {
			c.unreadA++
		}
	}
	return stored, nil
}

// messagesByKey reads the messages of keys (stored before), by key.
func (s *Store) messagesByKey(ctx context.Context, tx bun.Tx, keys []msgKey) (map[msgKey]Message, error) {
	var in strings.Builder
	args := make([]any, 0, 4*len(keys))
	for n, k := range keys {
		if n > 0 {
			in.WriteString(", ")
		}
		in.WriteString("(?, ?, ?, ?)")
		args = append(args, k.x, k.y, k.from, k.clientID)
	}
	var found []Message
	if err := tx.NewSelect().Model(&found).Where("(user_a, user_b, sender_id, client_id) IN ("+in.String()+")", args...).
		Scan(ctx); err != nil {
		return nil, err
	}
	out := make(map[msgKey]Message, len(found))
	for _, m := range found {
		out[msgKey{m.UserA, m.UserB, m.SenderID, m.ClientID}] = m
	}
	return out, nil
}

// updateConvs sets the last message and adds the new unread messages of
// every conversation the batch wrote to (one statement).
func (s *Store) updateConvs(ctx context.Context, tx bun.Tx, convs map[[2]int64]*sendConv) error {
	var ids, ats, ua, ub, where strings.Builder
	var idArgs, atArgs, uaArgs, ubArgs, whereArgs []any
	for _, c := range convs {
		if c.lastID == 0 {
			continue
		}
		const when = " WHEN user_a = ? AND user_b = ? THEN ?"
		ids.WriteString(when)
		idArgs = append(idArgs, c.UserA, c.UserB, c.lastID)
		ats.WriteString(when)
		atArgs = append(atArgs, c.UserA, c.UserB, c.lastAt)
		if c.unreadA > 0 {
			ua.WriteString(when)
			uaArgs = append(uaArgs, c.UserA, c.UserB, c.unreadA)
		}
		if c.unreadB > 0 {
			ub.WriteString(when)
			ubArgs = append(ubArgs, c.UserA, c.UserB, c.unreadB)
		}
		if where.Len() > 0 {
			where.WriteString(", ")
		}
		where.WriteString("(?, ?)")
		whereArgs = append(whereArgs, c.UserA, c.UserB)
	}
	if where.Len() == 0 {
		return nil
	}
	q := "UPDATE matches" + s.byPrimaryKey() + " SET last_message_id = CASE" + ids.String() + " END, last_message_at = CASE" + ats.String() + " END"
	args := append(idArgs, atArgs...)
	if ua.Len() > 0 {
		q += ", unread_a = unread_a + CASE" + ua.String() + " ELSE 0 END"
		args = append(args, uaArgs...)
	}
	if ub.Len() > 0 {
		q += ", unread_b = unread_b + CASE" + ub.String() + " ELSE 0 END"
		args = append(args, ubArgs...)
	}
	q += " WHERE (user_a, user_b) IN (" + where.String() + ")"
	_, err := tx.ExecContext(ctx, q, append(args, whereArgs...)...)
	return err
}

// MessagesByID returns the messages of ids, by id.
func (s *Store) MessagesByID(ctx context.Context, ids []int64) (map[int64]Message, error) {
	out := make(map[int64]Message, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var ms []Message
	if err := s.db.NewSelect().Model(&ms).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: %d messages: %w", len(ids), classify(err))
	}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out, nil
}

// MarkRead moves the read mark of reader in the conversation with other
// up to upTo, when upTo is the id of a message of the conversation and
// above the mark (a conditional update: the mark never moves back), and
// recounts the reader's unread messages above it, in one transaction
// serialised with the pair's sends. ErrNotFound when the two are not
// matched.
func (s *Store) MarkRead(ctx context.Context, reader, other, upTo int64) (ReadOutcome, error) {
	x, y := pair(reader, other)
	mark, unread := "read_a", "unread_a"
	if reader == y {
		mark, unread = "read_b", "unread_b"
	}
	var out ReadOutcome
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = ReadOutcome{}
		c, err := s.convIn(ctx, tx, x, y)
		if err != nil {
			return err
		}
		out.Mark = c.stateOf(reader).MyRead
		n, err := tx.NewSelect().TableExpr("messages").Where("user_a = ? AND user_b = ? AND id = ?", x, y, upTo).Count(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		out.InConversation = true
		if upTo <= out.Mark {
			return nil
		}
		left, err := tx.NewSelect().TableExpr("messages").Where("user_a = ? AND user_b = ? AND id > ? AND sender_id = ?", x, y, upTo, other).Count(ctx)
		if err != nil {
			return err
		}
		res, err := tx.NewUpdate().TableExpr("matches").Set(mark+" = ?", upTo).Set(unread+" = ?", left).
			Where("user_a = ? AND user_b = ? AND "+mark+" < ?", x, y, upTo).Exec(ctx)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 1 {
			out.Moved, out.Mark = true, upTo
		}
		return nil
	})
	if err != nil {
		return ReadOutcome{}, fmt.Errorf("store: read %d/%d up to %d: %w", reader, other, upTo, classify(err))
	}
	return out, nil
}

// Conversations returns one page of me's conversations with users visible
// to me (PeerVisibleSQL), latest activity first (active_at: the last
// message, else matched_at; ties by the other user's id, highest first),
// and their total. Each side of the pair is one range of its
// (user, active_at) index, read only as far as the page needs.
func (s *Store) Conversations(ctx context.Context, me int64, limit, offset int) ([]ConvState, int, error) {
	visA, visB := PeerVisibleSQL(me, "user_b"), PeerVisibleSQL(me, "user_a")
	var total int
	if err := s.db.NewRaw("SELECT (SELECT COUNT(*) FROM matches WHERE user_a = ? AND "+visA+") + (SELECT COUNT(*) FROM matches WHERE user_b = ? AND "+visB+")",
		me, me).Scan(ctx, &total); err != nil {
		return nil, 0, fmt.Errorf("store: conversations of %d: %w", me, classify(err))
	}
	var rows []convRow
	if err := s.db.NewRaw(conversationsSQL(me), conversationsArgs(me, limit, offset)...).Scan(ctx, &rows); err != nil {
		return nil, 0, fmt.Errorf("store: conversations of %d: %w", me, classify(err))
	}
	out := make([]ConvState, len(rows))
	for i, r := range rows {
		out[i] = r.stateOf(me)
	}
	return out, total, nil
}

// conversationsSQL reads a page of the conversations of me
// (conversationsArgs): the first offset+limit of each side of the pair by
// its (user, active_at) index, merged.
func conversationsSQL(me int64) string {
	visA, visB := PeerVisibleSQL(me, "user_b"), PeerVisibleSQL(me, "user_a")
	return "SELECT " + convColumns + " FROM (" +
		"SELECT * FROM (SELECT " + convColumns + ", active_at FROM matches WHERE user_a = ? AND " + visA + " ORDER BY active_at DESC, user_b DESC LIMIT ?) AS pa " +
		"UNION ALL " +
		"SELECT * FROM (SELECT " + convColumns + ", active_at FROM matches WHERE user_b = ? AND " + visB + " ORDER BY active_at DESC, user_a DESC LIMIT ?) AS pb" +
		") AS c ORDER BY active_at DESC, user_a + user_b DESC LIMIT ? OFFSET ?"
}

func conversationsArgs(me int64, limit, offset int) []any {
	return []any{me, offset + limit, me, offset + limit, limit, offset}
}

// deleteConversationIn deletes the messages of a and b in tx and resets
// the conversation state of their match row, if any.
func deleteConversationIn(ctx context.Context, tx bun.IDB, a, b int64) error {
	x, y := pair(a, b)
	if _, err := tx.NewDelete().TableExpr("messages").Where("user_a = ? AND user_b = ?", x, y).Exec(ctx); err != nil {
		return err
	}
	_, err := tx.NewUpdate().TableExpr("matches").Set("last_message_id = NULL").Set("last_message_at = NULL").
		Set("read_a = 0").Set("read_b = 0").Set("unread_a = 0").Set("unread_b = 0").
		Where("user_a = ? AND user_b = ?", x, y).Exec(ctx)
	return err
}

// DeleteConversation deletes the conversation of a and b (its messages
// and state) in its own transaction; nothing when there is none. A module
// that removes a match in its own transaction (a block) calls
// deleteConversationIn there instead.
func (s *Store) DeleteConversation(ctx context.Context, a, b int64) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return deleteConversationIn(ctx, tx, a, b)
	})
	if err != nil {
		return fmt.Errorf("store: delete conversation %d/%d: %w", a, b, classify(err))
	}
	return nil
}

// DeleteUserMessages deletes every message of every conversation of user
// id (sent or received; account deletion), at most batch rows per
// statement, each statement its own transaction, so a long history holds
// no lock for long. It returns how many it deleted.
func (s *Store) DeleteUserMessages(ctx context.Context, id int64, batch int) (int, error) {
	if batch < 1 {
		return 0, errors.New("store: delete user messages: batch must be >= 1")
	}
	total := 0
	for _, col := range []string{"user_a", "user_b"} {
		for {
			var ids []int64
			if err := s.db.NewSelect().TableExpr("messages").Column("id").Where(col+" = ?", id).Limit(int64(batch)).Scan(ctx, &ids); err != nil {
				return total, fmt.Errorf("store: delete messages of %d: %w", id, classify(err))
			}
			if len(ids) == 0 {
				break
			}
			res, err := s.db.NewDelete().TableExpr("messages").Where(col+" = ?", id).Where("id IN (?)", bun.In(ids)).Exec(ctx)
			if err != nil {
				return total, fmt.Errorf("store: delete messages of %d: %w", id, classify(err))
			}
			n, _ := res.RowsAffected()
			total += int(n)
			if len(ids) < batch {
				break
			}
		}
	}
	return total, nil
}
