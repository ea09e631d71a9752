// Package media turns an untrusted uploaded image into a safe one: limits
// checked before decoding, decoded, oriented by EXIF, scaled, re-encoded
// (so no metadata survives).
package media

import "errors"

// Errors of Process; the HTTP layer maps them to API code 1011.
var (
	ErrTooLarge      = errors.New("media: file too large")               // 413
	ErrUnsupported   = errors.New("media: not a JPEG, PNG, WebP or GIF") // 415
	ErrTooManyPixels = errors.New("media: image has too many pixels")    // 400
	ErrUndecodable   = errors.New("media: image cannot be decoded")      // 400
)

// Limits bound what Process accepts.
type Limits struct {
	MaxBytes  int64 // default 8 MiB
	MaxPixels int   // default 40_000_000
	MaxSide   int   // longest side after scaling, default 1080
}

// DefaultLimits returns the limits of API.md.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 8 << 20, MaxPixels: 40_000_000, MaxSide: 1080}
}

// Image is a processed image ready to store.
type Image struct {
	Data        []byte
	ContentType string // "image/jpeg" or "image/png"
	Ext         string // ".jpg" or ".png"
	Width       int
	Height      int
}
