package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"
)

// DefaultLocalBaseURL is where the HTTP server serves the media dir.
const DefaultLocalBaseURL = "/media"

// Local stores objects as files under a directory. All file access goes
// through an os.Root, so no key can reach outside it (not even through a
// symlink planted in the directory).
type Local struct {
	root    *os.Root
	baseURL string
}

// NewLocal opens (creating it if needed) dir as the store's root. baseURL
// prefixes public URLs; "" means DefaultLocalBaseURL. Close releases the
// directory handle.
func NewLocal(dir, baseURL string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: local: empty directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blob: local: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: local: open %s: %w", dir, err)
	}
	if baseURL == "" {
		baseURL = DefaultLocalBaseURL
	}
	return &Local{root: root, baseURL: baseURL}, nil
}

// Close releases the root directory.
func (l *Local) Close() error { return l.root.Close() }

// Put writes data to key atomically: a temporary file in the same
// directory is written, synced and renamed over key, so readers see the
// old or the new content, never a partial file. contentType is not stored
// (the file server derives it from the extension).
func (l *Local) Put(ctx context.Context, key string, data []byte, _ string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("blob: local: put %s: %w", key, err)
	}
	dir := path.Dir(key)
	if dir != "." {
		if err := l.root.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("blob: local: put %s: mkdir: %w", key, err)
		}
	}
	tmp, err := l.writeTemp(dir, data)
	if err != nil {
		return "", fmt.Errorf("blob: local: put %s: %w", key, err)
	}
	if err := l.root.Rename(tmp, key); err != nil {
		_ = l.root.Remove(tmp)
		return "", fmt.Errorf("blob: local: put %s: rename: %w", key, err)
	}
	return l.URL(key), nil
}

// writeTemp writes data to a new uniquely named file in dir and returns its
// name (relative to the root).
func (l *Local) writeTemp(dir string, data []byte) (name string, err error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	name = path.Join(dir, ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("create temp: %w", err)
	}
	defer func() {
		if err != nil {
			_ = l.root.Remove(name)
		}
	}()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("write temp: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("sync temp: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close temp: %w", err)
	}
	return name, nil
}

// Get reads key; ErrNotFound when it does not exist.
func (l *Local) Get(ctx context.Context, key string) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blob: local: get %s: %w", key, err)
	}
	data, err := l.root.ReadFile(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob: local: get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: local: get %s: %w", key, err)
	}
	return data, nil
}

// ModTime is when key was last written; ErrNotFound when it does not
// exist.
func (l *Local) ModTime(ctx context.Context, key string) (time.Time, error) {
	if err := CheckKey(key); err != nil {
		return time.Time{}, err
	}
	if err := ctx.Err(); err != nil {
		return time.Time{}, fmt.Errorf("blob: local: stat %s: %w", key, err)
	}
	fi, err := l.root.Stat(key)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, fmt.Errorf("blob: local: stat %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("blob: local: stat %s: %w", key, err)
	}
	return fi.ModTime(), nil
}

// FS is the store as a read-only file system (for serving), confined to the
// root like every other access.
func (l *Local) FS() fs.FS { return l.root.FS() }

// Delete removes key; a missing key is not an error. Empty directories are
// left in place.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: local: delete %s: %w", key, err)
	}
	if err := l.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: local: delete %s: %w", key, err)
	}
	return nil
}

// URL returns baseURL + "/" + key.
func (l *Local) URL(key string) string { return joinURL(l.baseURL, key) }

var _ Storage = (*Local)(nil)
