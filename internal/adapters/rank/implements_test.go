package rank_test

import (
	"github.com/swiper-social/swiper/internal/adapters/rank"
	"github.com/swiper-social/swiper/internal/domain/safety"
	"github.com/swiper-social/swiper/internal/domain/social"
)

// The domain declares what it needs of the hot rank's board; both boards
// must satisfy it, and the domain's readers of the scores table must fit
// the boards' sources.
var (
	_ social.RankBoard = (*rank.Table)(nil)
	_ social.RankBoard = (*rank.Redis)(nil)
	_ social.RankBoard = rank.Board(nil)
	_ safety.Rank      = rank.Board(nil)

	_ rank.TopFunc    = social.RankTop(nil)
	_ rank.ScoresFunc = social.RankScores(nil)
)
