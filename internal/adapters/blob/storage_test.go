package blob_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/swiper-social/swiper/internal/adapters/blob"
)

// testStorage is the contract every blob.Storage passes. newStorage returns
// a fresh, empty store.
func testStorage(t *testing.T, newStorage func(t *testing.T) blob.Storage) {
	t.Helper()
	ctx := context.Background()

	t.Run("put get roundtrip", func(t *testing.T) {
		s := newStorage(t)
		data := []byte("\xff\xd8\xff fake jpeg bytes \x00\x01")
		url, err := s.Put(ctx, "avatars/abc123.jpg", data, "image/jpeg")
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		if url != s.URL("avatars/abc123.jpg") {
			t.Errorf("Put URL %q != URL() %q", url, s.URL("avatars/abc123.jpg"))
		}
		if !strings.HasSuffix(url, "/avatars/abc123.jpg") {
			t.Errorf("URL %q does not end with the key", url)
		}
		got, err := s.Get(ctx, "avatars/abc123.jpg")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("Get = %q, want %q", got, data)
		}
	})

	t.Run("top-level and deep keys", func(t *testing.T) {
		s := newStorage(t)
		for _, key := range []string{"top.png", "a/b/c/d/e.webp"} {
			if _, err := s.Put(ctx, key, []byte(key), "image/png"); err != nil {
				t.Fatalf("Put %s: %v", key, err)
			}
			if got, err := s.Get(ctx, key); err != nil || string(got) != key {
				t.Fatalf("Get %s = %q, %v", key, got, err)
			}
		}
	})

	t.Run("empty object", func(t *testing.T) {
		s := newStorage(t)
		if _, err := s.Put(ctx, "photos/empty.bin", nil, "application/octet-stream"); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if got, err := s.Get(ctx, "photos/empty.bin"); err != nil || len(got) != 0 {
			t.Fatalf("Get = %q, %v; want empty", got, err)
		}
	})

	t.Run("overwrite", func(t *testing.T) {
		s := newStorage(t)
		for _, v := range []string{"first version", "second"} {
			if _, err := s.Put(ctx, "photos/p.jpg", []byte(v), "image/jpeg"); err != nil {
				t.Fatalf("Put %q: %v", v, err)
			}
		}
		if got, err := s.Get(ctx, "photos/p.jpg"); err != nil || string(got) != "second" {
			t.Fatalf("Get after overwrite = %q, %v; want second", got, err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := newStorage(t)
		if _, err := s.Put(ctx, "photos/d.jpg", []byte("x"), "image/jpeg"); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if _, err := s.Put(ctx, "photos/keep.jpg", []byte("y"), "image/jpeg"); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if err := s.Delete(ctx, "photos/d.jpg"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Get(ctx, "photos/d.jpg"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
		}
		if got, err := s.Get(ctx, "photos/keep.jpg"); err != nil || string(got) != "y" {
			t.Fatalf("sibling after Delete = %q, %v", got, err)
		}
		if err := s.Delete(ctx, "photos/d.jpg"); err != nil {
			t.Fatalf("second Delete: %v, want nil", err)
		}
	})

	t.Run("missing", func(t *testing.T) {
		s := newStorage(t)
		if _, err := s.Get(ctx, "photos/none.jpg"); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get missing: err = %v, want ErrNotFound", err)
		}
		if _, err := s.Get(ctx, "nodir/none.jpg"); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get missing dir: err = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "photos/none.jpg"); err != nil {
			t.Errorf("Delete missing: %v, want nil", err)
		}
	})

	t.Run("bad keys rejected", func(t *testing.T) {
		s := newStorage(t)
		bad := []string{
			"", "/etc/passwd", "../escape.jpg", "a/../../escape.jpg", "a/..", "..",
			`a\b.jpg`, `..\escape.jpg`, "a//b.jpg", "a/", "a/./b.jpg", ".", "a\x00b", "a\nb",
		}
		for _, key := range bad {
			if _, err := s.Put(ctx, key, []byte("x"), "image/jpeg"); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Put(%q): err = %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Get(%q): err = %v, want ErrInvalidKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Delete(%q): err = %v, want ErrInvalidKey", key, err)
			}
		}
	})

	t.Run("concurrent puts of one key", func(t *testing.T) {
		s := newStorage(t)
		versions := []string{"aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd"}
		var wg sync.WaitGroup
		for _, v := range versions {
			wg.Go(func() {
				if _, err := s.Put(ctx, "race/k.jpg", []byte(v), "image/jpeg"); err != nil {
					t.Errorf("Put: %v", err)
				}
			})
		}
		wg.Wait()
		got, err := s.Get(ctx, "race/k.jpg")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !bytes.Contains([]byte(strings.Join(versions, " ")), got) || len(got) != 10 {
			t.Errorf("Get = %q, want exactly one of the versions", got)
		}
	})
}
