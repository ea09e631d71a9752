package store

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// QueryCounts are the statements a store sent to the database since it was
// opened: reads (SELECT), writes (INSERT, UPDATE, DELETE, DDL) and the
// rest (BEGIN, COMMIT, ROLLBACK, SET). Each count is one round trip: a
// multi-statement query (SwipeTx.Record) counts once, by its first
// statement.
type QueryCounts struct {
	Reads, Writes, Other int64
}

// Total is every statement counted.
func (c QueryCounts) Total() int64 { return c.Reads + c.Writes + c.Other }

// Sub is what was counted between two readings (c - o).
func (c QueryCounts) Sub(o QueryCounts) QueryCounts {
	return QueryCounts{Reads: c.Reads - o.Reads, Writes: c.Writes - o.Writes, Other: c.Other - o.Other}
}

// Queries returns the statements sent so far by the store's pools: the
// metric swiper_db_statements_total, and what tests read to prove that a
// page costs a fixed number of statements whatever its size.
func (s *Store) Queries() QueryCounts {
	return QueryCounts{Reads: s.count.reads.Load(), Writes: s.count.writes.Load(), Other: s.count.other.Load()}
}

// queryCounter counts statements: a bun query hook on the pools, and the
// prepared reads (which bypass bun's hooks) count themselves.
type queryCounter struct{ reads, writes, other atomic.Int64 }

func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *queryCounter) AfterQuery(_ context.Context, e *bun.QueryEvent) { c.add(e.Query) }

func (c *queryCounter) add(query string) {
	q := strings.TrimLeft(query, " \t\r\n(")
	verb := q[:min(len(q), 8)]
	switch {
	case hasPrefixFold(verb, "SELECT"), hasPrefixFold(verb, "WITH"):
		c.reads.Add(1)
	case hasPrefixFold(verb, "BEGIN"), hasPrefixFold(verb, "COMMIT"), hasPrefixFold(verb, "ROLLBACK"),
		hasPrefixFold(verb, "SET "), hasPrefixFold(verb, "SAVEPOIN"), hasPrefixFold(verb, "RELEASE"):
		c.other.Add(1)
	default:
		c.writes.Add(1)
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
