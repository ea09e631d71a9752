package store

import (
	"context"
	"fmt"
	"math"

	"github.com/uptrace/bun"
)

// visibleConvSQL is the FROM and WHERE of the match row of a pair whose
// other user is shown (neither banned nor deleted). Arguments: other, then
// after those of joins: user_a, user_b.
//
// It is Visible's rule without its block test, which the match row makes
// needless: a pair with a block has no match row. blockIn deletes the
// match in the transaction that stores the block, and SwipeTx.Record
// never inserts one for a blocked pair; both write the pair's like_pairs
// row first, so they never interleave, on one server or on a multi-writer
// cluster (TestSafetyBlockRacesMutualLike). The two block probes were a
// sixth of the database's CPU for a page.
func visibleConvSQL(joins string) string {
	return " FROM matches AS c JOIN users AS u ON u.id = ? AND " + shownSQL("u") +
		joins + " WHERE c.user_a = ? AND c.user_b = ?"
}

// messagesPageSQL reads limit+1 messages of a pair below an id, newest
// first, each with the pair's read marks, when the other user is shown
// (visibleConvSQL; arguments: other, below, user_a, user_b, limit+1). The
// match and user rows are primary-key probes, the messages one range of
// their key, read backwards (no sort).
func messagesPageSQL() string { // built once: s.sql.messagesPage
	return "SELECT c.read_a, c.read_b, m.id, m.sender_id, m.client_id, m.text, m.sent_at" +
		visibleConvSQL(" JOIN messages AS m ON m.user_a = c.user_a AND m.user_b = c.user_b AND m.id < ?") +
		" ORDER BY m.id DESC LIMIT ?"
}

// convReadsSQL reads the pair's read marks when the other user is shown
// (arguments: other, user_a, user_b).
func convReadsSQL() string { return "SELECT c.read_a, c.read_b" + visibleConvSQL("") }

// MessagesPage is Visible, Conversation and Messages in one prepared
// statement (two when the page is empty): a page of the conversation of me
// with other, newest first (ids below before when before > 0), whether
// there are more, and the two read marks (mine, the other's);
// ErrNotFound when other is not visible to me or they are not matched.
func (s *Store) MessagesPage(ctx context.Context, me, other, before int64, limit int) (ms []Message, more bool, myRead, otherRead int64, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: messages of %d/%d: %w", me, other, classify(err))
		}
	}()
	x, y := pair(me, other)
	below := before
	if below <= 0 {
		below = math.MaxInt64
	}
	stmt, err := s.prepared(ctx, s.sql.messagesPage.get(messagesPageSQL))
	if err != nil {
		return nil, false, 0, 0, err
	}
	s.count.reads.Add(1) // bun's hooks do not see it
	rows, err := stmt.QueryContext(ctx, other, below, x, y, limit+1)
	if err != nil {
		return nil, false, 0, 0, err
	}
	defer rows.Close()
	var readA, readB int64
	var sent bun.NullTime // a time on MySQL, text on SQLite
	// Rows are scanned into their place in ms, which is on the heap
	// anyway: a Message of its own per row would escape there too (Scan
	// takes pointers to its fields), 4.7 KiB more per page of 50.
	ms = make([]Message, 0, limit)
	for rows.Next() {
		if len(ms) == limit {
			more = true
			break
		}
		ms = append(ms, Message{UserA: x, UserB: y})
		m := &ms[len(ms)-1]
		if err := rows.Scan(&readA, &readB, &m.ID, &m.SenderID, &m.ClientID, &m.Text, &sent); err != nil {
			return nil, false, 0, 0, err
		}
		m.SentAt = sent.Time
	}
	if err := rows.Err(); err != nil {
		return nil, false, 0, 0, err
	}
	if len(ms) == 0 {
		// No message below before, or no conversation.
		var c []convRow
		if err := s.queryPrepared(ctx, s.sql.convReads.get(convReadsSQL), &c, other, x, y); err != nil {
			return nil, false, 0, 0, err
		}
		if len(c) == 0 {
			return nil, false, 0, 0, ErrNotFound
		}
		readA, readB = c[0].ReadA, c[0].ReadB
	}
	if me == x {
		return ms, more, readA, readB, nil
	}
	return ms, more, readB, readA, nil
}
