package deck_test

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/deck"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// TestLoadFromDatabase loads the index from a real database (skipped
// unless SWIPER_DECK_LOAD_URL names one, e.g. the 1M-user bench database)
// and reports the time and the heap it takes.
func TestLoadFromDatabase(t *testing.T) {
	url := os.Getenv("SWIPER_DECK_LOAD_URL")
	if url == "" {
		t.Skip("SWIPER_DECK_LOAD_URL not set")
	}
	ctx := context.Background()
	dialect, dsn, err := config.Config{DatabaseURL: url}.Database()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dialect, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ix := deck.New(st, time.Now)
	start := time.Now()
	if err := ix.Load(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d users loaded in %v; heap %.1f MiB", ix.Len(), took.Round(time.Millisecond), float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
}
