package blob

import (
	"net/url"
	"strings"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// ErrInvalidKey is returned for a key that could escape the store's root or
// is otherwise malformed (model.ErrInvalidBlobKey).
var ErrInvalidKey = model.ErrInvalidBlobKey

// CheckKey validates a storage key (model.CheckBlobKey): one or more
// "/"-separated non-empty segments, no "..", no leading "/", no backslash,
// no control characters. Both implementations call it before touching the
// store.
func CheckKey(key string) error { return model.CheckBlobKey(key) }

// joinURL returns base + "/" + key with each key segment path-escaped.
func joinURL(base, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.TrimRight(base, "/") + "/" + strings.Join(segs, "/")
}
