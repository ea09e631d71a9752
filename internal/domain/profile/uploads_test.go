package profile_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/adapters/blob"
	"github.com/swiper-social/swiper/internal/adapters/cache"
	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/ratelimit"
	"github.com/swiper-social/swiper/internal/adapters/tasks"
	"github.com/swiper-social/swiper/internal/domain/media"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// recordingQueue keeps the tasks enqueued, without running them.
type recordingQueue struct {
	mu    sync.Mutex
	tasks []tasks.Task
}

func (q *recordingQueue) Enqueue(_ context.Context, t tasks.Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = append(q.tasks, t)
	return nil
}

func (q *recordingQueue) of(typ string) []tasks.Task {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []tasks.Task
	for _, t := range q.tasks {
		if t.Type == typ {
			out = append(out, t)
		}
	}
	return out
}

type uploadRig struct {
	svc           *profile.Service
	local, remote *blob.Local
	q             *recordingQueue
	id            int64
}

// newUploadRig is a service whose remote storage is a second local store
// (standing in for Qiniu), with an upload limit of max per hour.
func newUploadRig(t *testing.T, max int64) *uploadRig {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	kvs := kv.NewMemory(clk)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	users, profiles := cache.ForProfiles(kvs, cache.NewMetrics(prometheus.NewRegistry()), time.Hour, log)
	local, err := blob.NewLocal(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	remote, err := blob.NewLocal(t.TempDir(), "https://cdn.example.com")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close(); remote.Close() })
	q := &recordingQueue{}
	svc := profile.New(profile.Deps{Store: openStore(t), Users: users, Profiles: profiles, Local: local, Remote: remote,
		Queue: q, Clock: clk, TZ: time.UTC, FreeDailyLikes: 100, Log: log, Media: media.NewProcessor(media.DefaultLimits()),
		Limiter: ratelimit.New(kvs, clk, ""), UploadLimit: ratelimit.Rule{Name: "uploads", Max: max, Per: time.Hour}})
	id, _, err := svc.Register(context.Background(), "+8613812345678")
	if err != nil {
		t.Fatal(err)
	}
	return &uploadRig{svc: svc, local: local, remote: remote, q: q, id: id}
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 16, 12))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The media sweep (RetryUploads) queues the upload of an image still served
// locally once its file is older than the delay, with the payload and task
// id of the upload path; the upload task then switches the URL to the
// remote store and removes the local file.
func TestRetryUploads(t *testing.T) {
	ctx := context.Background()
	r := newUploadRig(t, 20)
	url, err := r.svc.SetAvatar(ctx, r.id, bytes.NewReader(testPNG(t)))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimPrefix(url, "/media/")
	first := r.q.of(profile.TaskUploadMedia)
	if !strings.HasPrefix(url, "/media/avatars/") || len(first) != 1 || first[0].ID != "upload:"+key {
		t.Fatalf("avatar %s, upload tasks %+v", url, first)
	}

	// Fresh: not queued again.
	if pending, queued, err := r.svc.RetryUploads(ctx, time.Hour, 500); err != nil || pending != 1 || queued != 0 {
		t.Fatalf("fresh: pending %d queued %d, %v; want 1, 0", pending, queued, err)
	}
	// Old enough: the same task again.
	if pending, queued, err := r.svc.RetryUploads(ctx, 0, 500); err != nil || pending != 1 || queued != 1 {
		t.Fatalf("old: pending %d queued %d, %v; want 1, 1", pending, queued, err)
	}
	all := r.q.of(profile.TaskUploadMedia)
	if len(all) != 2 || all[1].ID != first[0].ID || !bytes.Equal(all[1].Payload, first[0].Payload) {
		t.Fatalf("retried task %+v, want the upload path's %+v", all[len(all)-1], first[0])
	}

	if err := r.svc.UploadHandler()(ctx, all[1].Payload); err != nil {
		t.Fatalf("upload task: %v", err)
	}
	me, err := r.svc.Me(ctx, r.id)
	if err != nil || me.Avatar != "https://cdn.example.com/"+key {
		t.Fatalf("avatar after upload %q, %v", me.Avatar, err)
	}
	if _, err := r.remote.Get(ctx, key); err != nil {
		t.Errorf("remote copy: %v", err)
	}
	if _, err := r.local.ModTime(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("local copy after upload: %v, want gone", err)
	}
	if pending, _, err := r.svc.RetryUploads(ctx, 0, 500); err != nil || pending != 0 {
		t.Errorf("after upload: pending %d, %v", pending, err)
	}
}

// The upload limit counts images that passed the checks made before
// decoding, avatar and photos together; refused files do not count.
func TestUploadLimit(t *testing.T) {
	ctx := context.Background()
	r := newUploadRig(t, 2)
	if _, err := r.svc.SetAvatar(ctx, r.id, strings.NewReader("not an image")); !errors.Is(err, media.ErrUnsupported) {
		t.Fatalf("text: %v", err)
	}
	if _, err := r.svc.SetAvatar(ctx, r.id, bytes.NewReader(testPNG(t))); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.AddPhoto(ctx, r.id, bytes.NewReader(testPNG(t))); err != nil {
		t.Fatal(err)
	}
	var rl *ratelimit.Error
	if _, err := r.svc.AddPhoto(ctx, r.id, bytes.NewReader(testPNG(t))); !errors.As(err, &rl) || rl.Rule.Name != "uploads" {
		t.Fatalf("3rd upload: %v, want the uploads limit", err)
	}
	if _, err := r.svc.SetAvatar(ctx, r.id, strings.NewReader("not an image")); !errors.Is(err, media.ErrUnsupported) {
		t.Fatalf("text over the limit: %v, want ErrUnsupported (input first)", err)
	}
}
