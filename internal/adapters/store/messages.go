package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
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

// SendMessage stores m in the conversation of m.From and m.To in one
// transaction with the conversation's state (last message, the
// recipient's unread count), serialised with the pair's other sends and
// reads on its match row: ids and sent_at increase together within a
// conversation (sent_at is raised to the last message's when a replica's
// clock is behind). The unique key (pair, sender, client_id) decides a
// retry: the insert fails and the first message is returned, created
// nothing. ErrNotFound when the two are not matched.
func (s *Store) SendMessage(ctx context.Context, m NewMessage) (Sent, error) {
	x, y := pair(m.From, m.To)
	var out Sent
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = Sent{}
		c, err := s.convIn(ctx, tx, x, y)
		if err != nil {
			return err
		}
		at := m.SentAt.UTC()
		if c.LastMessageAt != nil && c.LastMessageAt.After(at) {
			at = c.LastMessageAt.UTC()
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO messages (user_a, user_b, sender_id, client_id, text, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
			x, y, m.From, m.ClientID, m.Text, at)
		if isDuplicate(err) {
			var first Message
			if err := s.forUpdate(tx.NewSelect().Model(&first).
				Where("user_a = ? AND user_b = ? AND sender_id = ? AND client_id = ?", x, y, m.From, m.ClientID)).Scan(ctx); err != nil {
				return err
			}
			recipientRead := c.ReadA
			if m.To == y {
				recipientRead = c.ReadB
			}
			out = Sent{Message: first, Read: recipientRead >= first.ID}
			return nil
		}
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if id <= c.LastMessageID.Int64 {
			// An id allocated before the last message was seen (a
			// multi-writer cluster's node whose counter lagged): taken
			// again, it follows the last one.
			return errRaced
		}
		unread := "unread_a"
		if m.To == y {
			unread = "unread_b"
		}
		if _, err := tx.NewUpdate().TableExpr("matches").Set("last_message_id = ?", id).Set("last_message_at = ?", at).
			Set(unread+" = "+unread+" + 1").Where("user_a = ? AND user_b = ?", x, y).Exec(ctx); err != nil {
			return err
		}
		out = Sent{Created: true, Message: Message{ID: id, UserA: x, UserB: y, SenderID: m.From, ClientID: m.ClientID, Text: m.Text, SentAt: at}}
		return nil
	})
	if err != nil {
		return Sent{}, fmt.Errorf("store: send from %d to %d: %w", m.From, m.To, classify(err))
	}
	return out, nil
}

// Messages returns up to limit messages of the conversation of me and
// other, newest first, only ids below before when before > 0 (one range
// of the pair's key), whether older ones exist, and the conversation's
// state. ErrNotFound when the two are not matched.
func (s *Store) Messages(ctx context.Context, me, other, before int64, limit int) ([]Message, bool, ConvState, error) {
	st, err := s.Conversation(ctx, me, other)
	if err != nil {
		return nil, false, ConvState{}, err
	}
	var ms []Message
	if err := s.messagesPage(&ms, me, other, before, limit).Scan(ctx); err != nil {
		return nil, false, ConvState{}, fmt.Errorf("store: messages of %d/%d: %w", me, other, classify(err))
	}
	more := len(ms) > limit
	if more {
		ms = ms[:limit]
	}
	return ms, more, st, nil
}

// messagesPage reads limit+1 messages of the pair of me and other below
// before (0: from the newest), newest first: one range of the pair's key.
func (s *Store) messagesPage(ms *[]Message, me, other, before int64, limit int) *bun.SelectQuery {
	x, y := pair(me, other)
	q := s.db.NewSelect().Model(ms).Where("user_a = ? AND user_b = ?", x, y)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	return q.OrderExpr("id DESC").Limit(int64(limit + 1))
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
