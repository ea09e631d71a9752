// Package blob stores uploaded images: on local disk under the media dir
// (served at /media/) or in Qiniu Kodo.
package blob

import (
	"context"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// ErrNotFound is returned when a key does not exist (model.ErrBlobNotFound).
var ErrNotFound = model.ErrBlobNotFound

// Storage stores objects by key. Keys are server-generated, e.g.
// "avatars/3f2a…c1.jpg"; implementations must reject keys that would escape
// their root ("..", absolute paths).
type Storage interface {
	// Put stores data under key (overwriting) and returns the public URL.
	Put(ctx context.Context, key string, data []byte, contentType string) (url string, err error)
	// Get returns the stored bytes.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// URL returns the public URL of key without touching the store.
	URL(key string) string
}
