package model

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of a media store (adapters/blob).
var (
	// ErrBlobNotFound is returned when a key does not exist.
	ErrBlobNotFound = errors.New("blob: not found")
	// ErrInvalidBlobKey is returned for a key that could escape the store's
	// root or is otherwise malformed.
	ErrInvalidBlobKey = errors.New("blob: invalid key")
)

// CheckBlobKey validates a media storage key: one or more "/"-separated
// non-empty segments, no "..", no leading "/", no backslash, no control
// characters. Both media stores call it before touching the store, and the
// media tasks before trusting a key of their payload.
func CheckBlobKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidBlobKey)
	case len(key) > 1024:
		return fmt.Errorf("%w: longer than 1024 bytes", ErrInvalidBlobKey)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: %q starts with /", ErrInvalidBlobKey, key)
	case strings.Contains(key, ".."):
		return fmt.Errorf("%w: %q contains ..", ErrInvalidBlobKey, key)
	case strings.Contains(key, `\`):
		return fmt.Errorf("%w: %q contains a backslash", ErrInvalidBlobKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." {
			return fmt.Errorf("%w: %q has an empty or . segment", ErrInvalidBlobKey, key)
		}
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidBlobKey, key)
		}
	}
	return nil
}
