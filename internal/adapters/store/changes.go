package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Writes made around the server: `swiper vip grant` (and any operator
// command, or a hand-made UPDATE) is another process writing the database.
// Every server process must see such a change on its next request, also
// when it caches users in its own memory (the embedded path). On SQLite a
// connection of the store's own follows the database's data version, which
// moves whenever another connection or process commits: while it stands
// still nothing changed, which costs one PRAGMA and no query; when it
// moved, the newest updated_at stamps of users and profiles (kept by
// triggers, whoever writes) tell whether a user changed, and which. MySQL
// has no data version; there every writer drops the shared (Redis) cache
// entries itself, as the CLI does.

// changeWatch is the state of UsersChanged.
type changeWatch struct {
	db *sql.DB // one connection (openWatch); nil: nothing to follow

	mu      sync.Mutex
	conn    *sql.Conn // pinned: data versions compare only on one connection
	version int64
	stamps  DeckStamps
	started bool
}

func (w *changeWatch) close() error {
	if w.db == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var err error
	if w.conn != nil {
		err = w.conn.Close()
		w.conn = nil
	}
	return errors.Join(err, w.db.Close())
}

// FollowsOutsideWrites reports whether UsersChanged sees the writes of
// other processes (SQLite); where it does not (MySQL), they must drop the
// cached copies of what they changed themselves.
func (s *Store) FollowsOutsideWrites() bool { return s.changes.db != nil }

// UsersChanged returns the users whose row or profile changed since the
// previous call, by whatever connection or process wrote them; the first
// call starts following and returns none. Without a data version to
// follow (FollowsOutsideWrites false) it returns none. Its statements run
// on a connection of its own and are not counted in Queries.
func (s *Store) UsersChanged(ctx context.Context) ([]int64, error) {
	w := &s.changes
	if w.db == nil {
		return nil, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	ids, err := w.changed(ctx)
	if err != nil {
		// A new connection starts over: its data version says nothing
		// about the old one's, so the next call compares stamps.
		if w.conn != nil {
			w.conn.Close()
			w.conn = nil
		}
		return nil, fmt.Errorf("store: changes: %w", classify(err))
	}
	return ids, nil
}

// changed is UsersChanged with w.mu held.
func (w *changeWatch) changed(ctx context.Context) ([]int64, error) {
	fresh := w.conn == nil
	if fresh {
		conn, err := w.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		w.conn = conn
	}
	// The version first: a commit after it moves it again for the next call.
	var v int64
	if err := w.conn.QueryRowContext(ctx, dataVersionSQL).Scan(&v); err != nil {
		return nil, err
	}
	if !fresh && v == w.version {
		return nil, nil
	}
	w.version = v
	var u, p any
	if err := w.conn.QueryRowContext(ctx,
		"SELECT (SELECT MAX(updated_at) FROM users), (SELECT MAX(updated_at) FROM profiles)").Scan(&u, &p); err != nil {
		return nil, err
	}
	now := DeckStamps{Users: stampText(u), Profiles: stampText(p)}
	if !w.started {
		w.started, w.stamps = true, now
		return nil, nil
	}
	if now == w.stamps {
		return nil, nil // other tables changed
	}
	rows, err := w.conn.QueryContext(ctx, "SELECT id FROM users WHERE updated_at > ? "+
		"UNION SELECT user_id FROM profiles WHERE updated_at > ?", w.stamps.Users, w.stamps.Profiles)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Stamps newer than `now` are read again next time (harmless).
	w.stamps = now
	return ids, nil
}
