// Package media turns an untrusted uploaded image into a safe one, in two
// steps. Processor.Check reads the upload and refuses, before any pixel is
// decoded, a file that is too big, has too many pixels, or whose decode would
// need more memory than the budget (estimated from its header). Then
// Processor.Process decodes it — a few at once, within one memory budget
// shared by all decodes in flight — scales it, turns it upright per its EXIF
// orientation and re-encodes it, so no metadata survives.
package media

import (
	"errors"
	"fmt"
	"time"
)

// Errors of Check and Process; the HTTP layer maps all but ErrBusy to API
// code 1011. ErrTooLarge, ErrTooManyPixels and ErrTooCostly come wrapped in
// a *LimitError that carries the limit.
var (
	ErrTooLarge      = errors.New("media: file too large")                          // 413
	ErrUnsupported   = errors.New("media: not a JPEG, PNG, WebP or GIF")            // 415
	ErrTooManyPixels = errors.New("media: image has too many pixels")               // 400
	ErrTooCostly     = errors.New("media: image needs too much memory to decode")   // 400
	ErrUndecodable   = errors.New("media: image cannot be decoded")                 // 400
	ErrBusy          = errors.New("media: too many images are being decoded; wait") // 503
)

// LimitError is an image over one of the Limits. errors.Is matches its
// sentinel (Err).
type LimitError struct {
	Err   error // ErrTooLarge, ErrTooManyPixels or ErrTooCostly
	Limit int64 // bytes (ErrTooLarge: of the file, ErrTooCostly: of memory) or pixels
	Value int64 // the image's pixels or estimated decode memory; 0 for ErrTooLarge (the rest is not read)
}

func (e *LimitError) Error() string {
	if e.Value == 0 {
		return fmt.Sprintf("%v: limit %d", e.Err, e.Limit)
	}
	return fmt.Sprintf("%v: %d, limit %d", e.Err, e.Value, e.Limit)
}

func (e *LimitError) Unwrap() error { return e.Err }

// Limits bound what a Processor accepts and how much it decodes at once.
// Zero fields take their DefaultLimits value.
type Limits struct {
	MaxBytes  int64 // file size, default 8 MiB
	MaxPixels int   // width × height, default 40_000_000
	MaxSide   int   // longest side after scaling, default 1080
	// MaxMemory is the memory budget of decoding: an image whose decode
	// (with scaling and re-encoding) is estimated to need more is refused
	// (ErrTooCostly), and the decodes in flight together stay within it
	// (a decode waits until enough of it is free). Default 128 MiB.
	MaxMemory int64
	Decoders  int           // decodes running at once, default runtime.GOMAXPROCS
	MaxWait   time.Duration // how long Process waits for its turn before ErrBusy, default 10 s
}

// DefaultLimits returns the limits of API.md ("Images") and the default
// decoding budget.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 8 << 20, MaxPixels: 40_000_000, MaxSide: 1080, MaxMemory: 128 << 20, MaxWait: 10 * time.Second}
}

// Image is a processed image ready to store.
type Image struct {
	Data        []byte
	ContentType string // "image/jpeg" or "image/png"
	Ext         string // ".jpg" or ".png"
	Width       int
	Height      int
}
