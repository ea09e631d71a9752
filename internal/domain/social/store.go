package social

import (
	"context"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// Store is what the social module needs of the database; the store
// implements it and decides nothing: the rules are in this package.
type Store interface {
	// InSwipeTx runs fn in one transaction, again as a whole after a
	// deadlock or a certification conflict (decide.go, committer.go).
	InSwipeTx(ctx context.Context, fn func(ctx context.Context, tx model.SwipeTx) error) error
	// RewindFacts reads what a rewind is decided on; ApplyRewind writes
	// the decision, or refuses with model.ErrStale when the facts moved.
	RewindFacts(ctx context.Context, userID int64, day string) (model.RewindFacts, error)
	ApplyRewind(ctx context.Context, u model.RewindUndo) error

	User(ctx context.Context, id int64) (model.User, error)
	// Visible reports whether other exists and is shown to viewer (not
	// banned or deleted, no block either way).
	Visible(ctx context.Context, viewer, other int64) (bool, error)
	Likers(ctx context.Context, userID int64, limit, offset int) ([]model.Liker, int, error)
	Matches(ctx context.Context, userID int64, limit, offset int, oldestFirst bool) ([]model.Match, int, error)
	Unmatch(ctx context.Context, a, b int64) error

	// What decks leave out or put first, when the deck state has no
	// answer (deck.go).
	DeckStateOf(ctx context.Context, viewer int64) (swiped []int64, superlikers []model.SuperlikeOf, err error)
	DeckCandidates(ctx context.Context, viewer int64, ids []int64) (map[int64]model.DeckCandidate, error)
	DeckExcluded(ctx context.Context, viewer int64, ids []int64) (map[int64]bool, error)
}

// Scores is what the hot rank reads of the scores table (RankTop,
// RankScores).
type Scores interface {
	TopScores(ctx context.Context, n int) ([]model.Score, error)
	RankedScores(ctx context.Context, ids []int64) ([]model.Score, error)
}

// DeckState caches per viewer what a deck leaves out or puts first
// (deck.go): in process or in Redis, shared by the replicas (package
// deckstate implements it). The database stays the truth: a miss is
// filled from it.
type DeckState interface {
	// Probe reports which of ids viewer swiped and up to limit of viewer's
	// superlikers (limit 0: none).
	Probe(ctx context.Context, viewer int64, ids []int64, limit int) (model.DeckProbe, error)
	// Fill caches viewer's state read from the database after the Probe
	// that returned tok; it is dropped when a report about viewer (or a
	// reset) came in since, so a fill never caches a state older than a swipe.
	Fill(ctx context.Context, viewer int64, tok model.DeckToken, swiped []int64, superlikers []model.Superliker) error
	// Swiped and Rewound report committed swipes and rewinds.
	Swiped(ctx context.Context, sw []model.DeckSwipe) error
	Rewound(ctx context.Context, sw model.DeckSwipe) error
}

// RankBoard serves the top of the hot rank (package rank implements it:
// straight from the scores table, or a bounded Redis list).
type RankBoard interface {
	// Changed tells the board that committed writes changed the scores of
	// ids (called after the commit).
	Changed(ctx context.Context, ids []int64) error
	// Top returns up to n entries with a positive score, highest first,
	// ties by lower id.
	Top(ctx context.Context, n int) ([]model.RankEntry, error)
}
