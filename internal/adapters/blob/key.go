package blob

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrInvalidKey is returned for a key that could escape the store's root or
// is otherwise malformed.
var ErrInvalidKey = errors.New("blob: invalid key")

// CheckKey validates a storage key: one or more "/"-separated non-empty
// segments, no "..", no leading "/", no backslash, no control characters.
// Both implementations call it before touching the store.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > 1024:
		return fmt.Errorf("%w: longer than 1024 bytes", ErrInvalidKey)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: %q starts with /", ErrInvalidKey, key)
	case strings.Contains(key, ".."):
		return fmt.Errorf("%w: %q contains ..", ErrInvalidKey, key)
	case strings.Contains(key, `\`):
		return fmt.Errorf("%w: %q contains a backslash", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." {
			return fmt.Errorf("%w: %q has an empty or . segment", ErrInvalidKey, key)
		}
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidKey, key)
		}
	}
	return nil
}

// joinURL returns base + "/" + key with each key segment path-escaped.
func joinURL(base, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.TrimRight(base, "/") + "/" + strings.Join(segs, "/")
}
