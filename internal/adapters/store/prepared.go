package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/uptrace/bun"
)

// Prepared statements for the hottest reads (the record of a user that a
// login answers with, the quota usage every Me shows): the SQL is what bun
// writes for the models, so it follows them, with placeholders for the
// arguments; the database parses it once per connection instead of on
// every call (SQLite spends most of such a small read parsing it), and bun
// scans the rows as usual. They run on database/sql directly, so bun's
// query hooks do not see them (queryPrepared counts them itself).
type preparedStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepared returns the statement of query, preparing it on first use.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st, ok := s.stmts.m[query]; ok {
		return st, nil
	}
	st, err := s.db.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.stmts.m == nil {
		s.stmts.m = make(map[string]*sql.Stmt)
	}
	s.stmts.m[query] = st
	return st, nil
}

// queryPrepared runs the prepared query with args and scans its rows into
// dest (bun models; a struct and no row is no error).
func (s *Store) queryPrepared(ctx context.Context, query string, dest any, args ...any) error {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	s.count.reads.Add(1) // bun's hooks do not see it
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	return s.db.ScanRows(ctx, rows, dest)
}

// sqlOnce holds SQL text built from the models once per store.
type sqlOnce struct {
	once sync.Once
	text string
}

func (o *sqlOnce) get(build func() string) string {
	o.once.Do(func() { o.text = build() })
	return o.text
}

// UserAndPhotos returns the user with id (ErrNotFound if none) and their
// album by position: the same rows as User and Photos, from prepared
// statements.
func (s *Store) UserAndPhotos(ctx context.Context, id int64) (User, []Photo, error) {
	userSQL := s.sql.userByID.get(func() string {
		return s.db.NewSelect().Model((*User)(nil)).Where("?TableAlias.id = ?", bun.Safe("?")).String()
	})
	photosSQL := s.sql.photosOf.get(func() string {
		return s.db.NewSelect().Model((*Photo)(nil)).Where("?TableAlias.user_id = ?", bun.Safe("?")).
			OrderExpr("?TableAlias.position").String()
	})
	var u User
	err := s.queryPrepared(ctx, userSQL, &u, id)
	if err == nil && u.ID == 0 { // ScanRows into a struct: no row is no error
		err = sql.ErrNoRows
	}
	if err != nil {
		return User{}, nil, fmt.Errorf("store: user %d: %w", id, classify(err))
	}
	var ps []Photo
	if err := s.queryPrepared(ctx, photosSQL, &ps, id); err != nil {
		return User{}, nil, fmt.Errorf("store: photos %d: %w", id, classify(err))
	}
	return u, ps, nil
}

// hotSQL is the SQL of the prepared reads, built on first use.
type hotSQL struct {
	userByID sqlOnce
	photosOf sqlOnce
	quotas   [7]sqlOnce // for 1, 2, 4 … 64 users (quotaread.go)
	// A page of messages and, when it is empty, the read marks alone
	// (messages_page.go).
	messagesPage, convReads sqlOnce
}
