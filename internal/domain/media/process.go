package media

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"
)

// JPEGQuality is the quality of re-encoded opaque images.
const JPEGQuality = 85

type format int

const (
	formatUnknown format = iota
	formatJPEG
	formatPNG
	formatGIF
	formatWebP
)

// Processor checks and normalises uploaded images. It is safe for
// concurrent use; one per process, so that its budget is the process's.
type Processor struct {
	lim   Limits
	slots *semaphore.Weighted // decodes running
	mem   *semaphore.Weighted // estimated bytes of the decodes running
}

// NewProcessor returns a Processor with lim (zero fields take their
// defaults).
func NewProcessor(lim Limits) *Processor {
	lim = lim.withDefaults()
	return &Processor{lim: lim, slots: semaphore.NewWeighted(int64(lim.Decoders)), mem: semaphore.NewWeighted(lim.MaxMemory)}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = d.MaxSide
	}
	if l.MaxMemory <= 0 {
		l.MaxMemory = d.MaxMemory
	}
	if l.Decoders <= 0 {
		l.Decoders = runtime.GOMAXPROCS(0)
	}
	if l.MaxWait <= 0 {
		l.MaxWait = d.MaxWait
	}
	return l
}

// Upload is an uploaded image that passed Check: its bytes, what its header
// says, and the memory its processing is estimated to need.
type Upload struct {
	data          []byte
	f             format
	width, height int
	orientation   int // EXIF orientation (JPEG), 1..8; 0 = none
	cost          int64
}

// Check reads one uploaded image and checks everything that can be checked
// without decoding its pixels. In order:
//   - at most MaxBytes are read (ErrTooLarge beyond, without reading the rest);
//   - the format is sniffed from the content, never a name: JPEG, PNG, GIF
//     or WebP, else ErrUnsupported;
//   - the header is parsed (ErrUndecodable if it cannot be), and an image
//     over MaxPixels or with a zero side is refused (ErrTooManyPixels);
//   - the memory of decoding, scaling and re-encoding it is estimated from
//     the header (see cost.go) and an image over MaxMemory is refused
//     (ErrTooCostly), as is a JPEG of more than maxJPEGScans scans
//     (ErrUndecodable).
//
// Errors other than these sentinels come only from r itself (a failed read).
func (p *Processor) Check(r io.Reader) (Upload, error) {
	lim := p.lim
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return Upload{}, fmt.Errorf("media: read upload: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return Upload{}, &LimitError{Err: ErrTooLarge, Limit: lim.MaxBytes}
	}

	f := sniff(data)
	if f == formatUnknown {
		return Upload{}, ErrUnsupported
	}
	cfg, err := decodeConfig(f, data)
	if err != nil {
		return Upload{}, fmt.Errorf("%w: header: %v", ErrUndecodable, err)
	}
	if pixels := int64(cfg.Width) * int64(cfg.Height); cfg.Width <= 0 || cfg.Height <= 0 || pixels > int64(lim.MaxPixels) {
		return Upload{}, &LimitError{Err: ErrTooManyPixels, Limit: int64(lim.MaxPixels), Value: pixels}
	}

	u := Upload{data: data, f: f, width: cfg.Width, height: cfg.Height}
	dc, err := decodeCost(&u)
	if err != nil {
		return Upload{}, err
	}
	u.cost = dc + processCost(u.width, u.height, lim.MaxSide, runtime.GOMAXPROCS(0))
	if u.cost > lim.MaxMemory {
		return Upload{}, &LimitError{Err: ErrTooCostly, Limit: lim.MaxMemory, Value: u.cost}
	}
	return u, nil
}

// Process decodes u (GIF: its first frame; failure: ErrUndecodable), scales
// it down so its longest side is at most MaxSide (never up), turns it
// upright per its EXIF orientation (JPEG) and re-encodes it: JPEG quality 85
// when opaque, PNG when it has transparency. No metadata survives.
//
// It first waits, at most MaxWait, until a decoder is free and the memory u
// needs is within what the decodes in flight leave of MaxMemory: ErrBusy
// after MaxWait, ctx's error (wrapped) when ctx ends first.
func (p *Processor) Process(ctx context.Context, u Upload) (Image, error) {
	if u.data == nil {
		return Image{}, fmt.Errorf("%w: not checked", ErrUndecodable)
	}
	release, err := p.acquire(ctx, u.cost)
	if err != nil {
		return Image{}, err
	}
	defer release()

	img, err := decode(u.data, u.f)
	if err != nil {
		return Image{}, err
	}
	w, h := fitSize(img.Bounds().Dx(), img.Bounds().Dy(), p.lim.MaxSide)
	var out *image.NRGBA
	if w != img.Bounds().Dx() || h != img.Bounds().Dy() {
		out = imaging.Resize(img, w, h, imaging.Lanczos)
	} else {
		out = imaging.Clone(img)
	}
	return encode(orient(out, u.orientation))
}

// acquire takes a decoder and cost bytes of the memory budget, waiting at
// most MaxWait. The returned func gives them back.
func (p *Processor) acquire(ctx context.Context, cost int64) (func(), error) {
	wctx, cancel := context.WithTimeout(ctx, p.lim.MaxWait)
	defer cancel()
	busy := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("media: waiting to decode: %w", ctx.Err())
		}
		return fmt.Errorf("%w (%v)", ErrBusy, err)
	}
	if err := p.mem.Acquire(wctx, cost); err != nil {
		return nil, busy(err)
	}
	if err := p.slots.Acquire(wctx, 1); err != nil {
		p.mem.Release(cost)
		return nil, busy(err)
	}
	return func() {
		p.slots.Release(1)
		p.mem.Release(cost)
	}, nil
}

// sniff identifies the format by its magic bytes. http.DetectContentType
// is not used: it does not recognise every WebP variant.
func sniff(b []byte) format {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	}
	return formatUnknown
}

// decodeConfig reads only the header of an image of format f.
func decodeConfig(f format, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch f {
	case formatJPEG:
		return jpeg.DecodeConfig(r)
	case formatPNG:
		return png.DecodeConfig(r)
	case formatGIF:
		return gif.DecodeConfig(r)
	case formatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, ErrUnsupported
}

// decode decodes the full image (GIF: the first frame). A panic in a decoder
// on hostile input is reported as ErrUndecodable rather than crashing the
// process.
func decode(data []byte, f format) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("%w: decoder panic: %v", ErrUndecodable, p)
		}
	}()
	r := bytes.NewReader(data)
	switch f {
	case formatJPEG:
		img, err = jpeg.Decode(r)
	case formatPNG:
		img, err = png.Decode(r)
	case formatGIF:
		img, err = gif.Decode(r)
	case formatWebP:
		img, err = webp.Decode(r)
	default:
		err = ErrUnsupported
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fmt.Errorf("%w: empty image", ErrUndecodable)
	}
	return img, nil
}

// fitSize is the size of a w×h image scaled down to fit a side×side square
// (never up), each side at least 1 px.
func fitSize(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, int(int64(side)*int64(h)/int64(w)))
	}
	return max(1, int(int64(side)*int64(w)/int64(h))), side
}

// orient turns img upright per an EXIF orientation (1..8; others: as is).
func orient(img *image.NRGBA, o int) *image.NRGBA {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// encode writes img as JPEG when it is opaque and as PNG otherwise. It can
// only fail for images no decoder here produces (a side over 65535 px for
// JPEG), reported as ErrUndecodable.
func encode(img *image.NRGBA) (Image, error) {
	var buf bytes.Buffer
	out := Image{Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	if img.Opaque() {
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: JPEGQuality}); err != nil {
			return Image{}, fmt.Errorf("%w: encode jpeg: %v", ErrUndecodable, err)
		}
		out.ContentType, out.Ext = "image/jpeg", ".jpg"
	} else {
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&buf, img); err != nil {
			return Image{}, fmt.Errorf("%w: encode png: %v", ErrUndecodable, err)
		}
		out.ContentType, out.Ext = "image/png", ".png"
	}
	out.Data = buf.Bytes()
	return out, nil
}
