package blob_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/blob"
)

func newLocal(t *testing.T, dir, baseURL string) *blob.Local {
	t.Helper()
	l, err := blob.NewLocal(dir, baseURL)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func TestLocalContract(t *testing.T) {
	testStorage(t, func(t *testing.T) blob.Storage { return newLocal(t, t.TempDir(), "") })
}

func TestLocalFilesAndURLs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "media") // created by NewLocal
	l := newLocal(t, dir, "")
	url, err := l.Put(context.Background(), "avatars/x1.jpg", []byte("jpeg"), "image/jpeg")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if url != "/media/avatars/x1.jpg" {
		t.Errorf("URL = %q, want /media/avatars/x1.jpg", url)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "avatars", "x1.jpg")); err != nil || string(b) != "jpeg" {
		t.Errorf("file on disk = %q, %v", b, err)
	}
	// The atomic write leaves no temporary file behind.
	entries, _ := os.ReadDir(filepath.Join(dir, "avatars"))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("avatars/ holds %v, want only x1.jpg", names)
	}

	for base, want := range map[string]string{
		"https://cdn.example.com/media/": "https://cdn.example.com/media/a/b c.jpg",
		"/static":                        "/static/a/b c.jpg",
	} {
		got := newLocal(t, t.TempDir(), base).URL("a/b c.jpg")
		want = strings.ReplaceAll(want, " ", "%20")
		if got != want {
			t.Errorf("URL with base %q = %q, want %q", base, got, want)
		}
	}
}

func TestLocalSymlinkCannotEscape(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	l := newLocal(t, dir, "")
	ctx := context.Background()
	if _, err := l.Get(ctx, "link/secret.txt"); err == nil {
		t.Error("Get through a symlink out of the root succeeded")
	}
	if _, err := l.Put(ctx, "link/planted.txt", []byte("x"), "text/plain"); err == nil {
		t.Error("Put through a symlink out of the root succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written outside the root: %v", err)
	}
	if _, err := l.ModTime(ctx, "link/secret.txt"); err == nil {
		t.Error("ModTime through a symlink out of the root succeeded")
	}
	if _, err := fs.ReadFile(l.FS(), "link/secret.txt"); err == nil {
		t.Error("FS read through a symlink out of the root succeeded")
	}
}

// ModTime and FS reach the files Put wrote, and only keys CheckKey accepts
// (ModTime) or fs.ValidPath names (FS).
func TestLocalModTimeAndFS(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, t.TempDir(), "")
	before := time.Now().Add(-time.Second)
	if _, err := l.Put(ctx, "photos/p.jpg", []byte("jpeg"), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if mt, err := l.ModTime(ctx, "photos/p.jpg"); err != nil || mt.Before(before) {
		t.Errorf("ModTime = %v, %v; want after %v", mt, err, before)
	}
	if _, err := l.ModTime(ctx, "photos/none.jpg"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ModTime of a missing key: %v, want ErrNotFound", err)
	}
	if _, err := l.ModTime(ctx, "../x"); !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("ModTime of ../x: %v, want ErrInvalidKey", err)
	}
	if b, err := fs.ReadFile(l.FS(), "photos/p.jpg"); err != nil || string(b) != "jpeg" {
		t.Errorf("FS read = %q, %v", b, err)
	}
	if _, err := l.FS().Open("../x"); err == nil {
		t.Error("FS opened ../x")
	}
}

func TestNewLocalErrors(t *testing.T) {
	if _, err := blob.NewLocal("", ""); err == nil {
		t.Error("NewLocal with empty dir succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := blob.NewLocal(file, ""); err == nil {
		t.Error("NewLocal on a regular file succeeded")
	}
}
