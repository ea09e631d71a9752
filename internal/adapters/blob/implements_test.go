package blob_test

import (
	"github.com/swiper-social/swiper/internal/adapters/blob"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// profile declares what it needs of the media stores: the local one
// (whose files are served at /media/) and, optionally, a remote one.
var (
	_ profile.LocalStorage = (*blob.Local)(nil)
	_ profile.Storage      = (*blob.Qiniu)(nil)
	_ profile.Storage      = blob.Storage(nil)
)
