package media

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"
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

// decodeConfig reads only the header of an image of format f. Importing
// these decoders also registers them with package image, which
// imaging.Decode uses for the full decode.
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

// Process validates and normalises one uploaded image. In order:
//   - at most lim.MaxBytes are read (ErrTooLarge beyond, without reading the rest);
//   - the format is sniffed from the content, never a name: JPEG, PNG, GIF
//     or WebP, else ErrUnsupported;
//   - the header alone is decoded, and an image over lim.MaxPixels or with a
//     zero side is refused (ErrTooManyPixels) before any pixel is decoded;
//   - the image is decoded (GIF: first frame; failure: ErrUndecodable), turned
//     upright per its EXIF orientation (JPEG), scaled down so its longest
//     side is at most lim.MaxSide (never up), and re-encoded: JPEG quality 85
//     when opaque, PNG when it has transparency. No metadata survives.
//
// Zero fields of lim take their DefaultLimits value. Errors other than the
// four sentinels come only from r itself (a failed read).
func Process(r io.Reader, lim Limits) (Image, error) {
	lim = lim.withDefaults()

	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return Image{}, fmt.Errorf("media: read upload: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return Image{}, ErrTooLarge
	}

	f := sniff(data)
	if f == formatUnknown {
		return Image{}, ErrUnsupported
	}

	cfg, err := decodeConfig(f, data)
	if err != nil {
		return Image{}, fmt.Errorf("%w: header: %v", ErrUndecodable, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(lim.MaxPixels) {
		return Image{}, fmt.Errorf("%w: %dx%d", ErrTooManyPixels, cfg.Width, cfg.Height)
	}

	img, err := decode(data, f)
	if err != nil {
		return Image{}, err
	}

	if b := img.Bounds(); b.Dx() > lim.MaxSide || b.Dy() > lim.MaxSide {
		img = imaging.Fit(img, lim.MaxSide, lim.MaxSide, imaging.Lanczos)
	}
	return encode(img)
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
	return l
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

// decode decodes the full image, upright for JPEG. A panic in a decoder on
// hostile input is reported as ErrUndecodable rather than crashing the
// worker.
func decode(data []byte, f format) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("%w: decoder panic: %v", ErrUndecodable, p)
		}
	}()
	img, err = imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(f == formatJPEG))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fmt.Errorf("%w: empty image", ErrUndecodable)
	}
	return img, nil
}

// encode writes img as JPEG when it is opaque and as PNG otherwise. It can
// only fail for images no decoder here produces (a side over 65535 px for
// JPEG), reported as ErrUndecodable.
func encode(img image.Image) (Image, error) {
	var buf bytes.Buffer
	out := Image{Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	if isOpaque(img) {
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

// isOpaque reports whether every pixel of img is fully opaque.
func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}
