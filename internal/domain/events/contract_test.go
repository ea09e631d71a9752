package events_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/events/eventstest"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

func TestMemoryContract(t *testing.T) {
	eventstest.Run(t, func(t *testing.T, clk clock.Clock, l events.Limits) events.Log {
		return events.NewMemory(clk, l)
	})
}

func TestSQLiteContract(t *testing.T) {
	eventstest.Run(t, func(t *testing.T, clk clock.Clock, l events.Limits) events.Log {
		path := filepath.Join(t.TempDir(), "swiper.db")
		ctx := context.Background()
		st, err := store.Open(ctx, config.SQLite, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			t.Fatal(err)
		}
		db, err := kv.OpenSQLiteDB(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return events.NewSQLite(db, clk, l)
	})
}

func TestRedisContract(t *testing.T) {
	eventstest.Run(t, func(t *testing.T, clk clock.Clock, l events.Limits) events.Log {
		c, prefix := testenv.RedisClient(t)
		return events.NewRedis(c, prefix, clk, l)
	})
}

// A user's keys share one hash slot (a script may touch only one slot of a
// Redis Cluster); different users spread over slots.
func TestRedisKeysOneSlotPerUser(t *testing.T) {
	c, prefix := testenv.RedisClient(t)
	clk := clock.NewFake(clock.Real{}.Now())
	l := events.NewRedis(c, prefix, clk, events.Limits{})
	if _, err := l.Append(t.Context(), events.Record{To: 42, Type: "match", Data: []byte(`{}`), Key: "k1"},
		events.Record{To: 43, Type: "match", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	keys := testenv.RedisKeys(t, c, prefix+"*")
	if len(keys) != 5 { // 42: seq, log, key; 43: seq, log
		t.Fatalf("keys = %v", keys)
	}
	slots := map[string]map[int]bool{}
	for _, k := range keys {
		tag := k[len(prefix)+len("ev:"):]
		tag = tag[:len("{u:42}")]
		if slots[tag] == nil {
			slots[tag] = map[int]bool{}
		}
		slots[tag][kv.Slot(k)] = true
	}
	if len(slots) != 2 || len(slots["{u:42}"]) != 1 || len(slots["{u:43}"]) != 1 {
		t.Fatalf("slots by user = %v", slots)
	}
}
