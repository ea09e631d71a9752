package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "golang.org/x/image/webp" // to decode WebP inputs in checks

	"github.com/swiper-social/swiper/internal/domain/media"
)

// ---- input builders ----

func solid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if len(img.Pix) == 0 {
		return img
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	copy(img.Pix, []byte{n.R, n.G, n.B, n.A})
	for filled := 4; filled < len(img.Pix); filled *= 2 {
		copy(img.Pix[filled:], img.Pix[:filled])
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// animatedGIF has a 4×4 red first frame and a blue second frame.
func animatedGIF(t testing.TB) []byte {
	t.Helper()
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	f1 := image.NewPaletted(image.Rect(0, 0, 4, 4), pal)
	f2 := image.NewPaletted(image.Rect(0, 0, 4, 4), pal)
	for i := range f2.Pix {
		f2.Pix[i] = 1
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{f1, f2}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// transparentGIF is 4×4 with palette index 0 fully transparent.
func transparentGIF(t testing.TB) []byte {
	t.Helper()
	pal := color.Palette{color.RGBA{0, 0, 0, 0}, color.RGBA{0, 255, 0, 255}}
	img := image.NewPaletted(image.Rect(0, 0, 4, 4), pal)
	img.Pix[5] = 1
	return encodeGIF(t, img)
}

func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// pngHeaderOnly is a PNG signature and an IHDR with a correct CRC declaring
// w×h RGBA pixels, and nothing else: no pixel data at all.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // depth 8, RGBA, deflate, filter 0, no interlace
	return append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
}

// jpegWithDims rewrites the SOF0 frame size of a real JPEG.
func jpegWithDims(t testing.TB, w, h uint16) []byte {
	t.Helper()
	b := encodeJPEG(t, solid(8, 8, color.White))
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 in Go's JPEG")
	}
	// FF C0, length(2), precision(1), height(2), width(2)
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

// exifAPP1 builds an APP1 segment "Exif\0\0" + big-endian TIFF whose IFD0
// holds an Orientation tag (when orientation > 0) and a GPSInfo pointer to a
// GPS IFD with GPSLatitudeRef "N" and GPSLatitude 48°51'29".
func exifAPP1(orientation uint16) []byte {
	be := binary.BigEndian
	type entry struct {
		tag, typ     uint16
		count, value uint32
	}
	var ifd0 []entry
	if orientation > 0 {
		ifd0 = append(ifd0, entry{0x0112, 3, 1, uint32(orientation) << 16}) // SHORT, left-justified
	}
	ifd0Len := uint32(2 + 12*(len(ifd0)+1) + 4)
	gpsOff := 8 + ifd0Len
	gpsLen := uint32(2 + 12*2 + 4)
	ratOff := gpsOff + gpsLen
	ifd0 = append(ifd0, entry{0x8825, 4, 1, gpsOff}) // GPSInfo, LONG
	gps := []entry{
		{0x0001, 2, 2, uint32('N') << 24}, // GPSLatitudeRef, ASCII "N\0"
		{0x0002, 5, 3, ratOff},            // GPSLatitude, 3 RATIONALs
	}
	writeIFD := func(b []byte, es []entry) []byte {
		b = be.AppendUint16(b, uint16(len(es)))
		for _, e := range es {
			b = be.AppendUint16(b, e.tag)
			b = be.AppendUint16(b, e.typ)
			b = be.AppendUint32(b, e.count)
			b = be.AppendUint32(b, e.value)
		}
		return be.AppendUint32(b, 0) // no next IFD
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	tiff = writeIFD(tiff, ifd0)
	tiff = writeIFD(tiff, gps)
	for _, r := range [][2]uint32{{48, 1}, {51, 1}, {29, 1}} {
		tiff = be.AppendUint32(tiff, r[0])
		tiff = be.AppendUint32(tiff, r[1])
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = be.AppendUint16(seg, uint16(2+len(payload)))
	return append(seg, payload...)
}

// withEXIF inserts app1 right after the SOI marker of a JPEG.
func withEXIF(jpg, app1 []byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	return append(out, jpg[2:]...)
}

// process runs Check then Process, as the upload path does.
func process(r io.Reader, lim media.Limits) (media.Image, error) {
	p := media.NewProcessor(lim)
	u, err := p.Check(r)
	if err != nil {
		return media.Image{}, err
	}
	return p.Process(context.Background(), u)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- checks ----

// checkOutput verifies that img is what it claims: decodable, of its stated
// type and size, and free of EXIF.
func checkOutput(t *testing.T, img media.Image) image.Image {
	t.Helper()
	decoded, format, err := image.Decode(bytes.NewReader(img.Data))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	wantFormat := map[string]string{"image/jpeg": "jpeg", "image/png": "png"}[img.ContentType]
	if format != wantFormat {
		t.Errorf("output format %q, ContentType %q", format, img.ContentType)
	}
	wantExt := map[string]string{"image/jpeg": ".jpg", "image/png": ".png"}[img.ContentType]
	if img.Ext != wantExt {
		t.Errorf("Ext %q for ContentType %q", img.Ext, img.ContentType)
	}
	if b := decoded.Bounds(); b.Dx() != img.Width || b.Dy() != img.Height {
		t.Errorf("output is %dx%d, Image says %dx%d", b.Dx(), b.Dy(), img.Width, img.Height)
	}
	if bytes.Contains(img.Data, []byte("Exif")) {
		t.Error("output contains Exif bytes")
	}
	return decoded
}

func TestProcessAccepts(t *testing.T) {
	opaque := solid(40, 30, color.RGBA{200, 10, 10, 255})
	translucent := solid(40, 30, color.NRGBA{10, 200, 10, 128})
	tests := []struct {
		name        string
		in          []byte
		wantType    string
		wantW       int
		wantH       int
		wantInColor func(r, g, b, a uint32) bool // of the centre pixel; nil = skip
	}{
		{"jpeg", encodeJPEG(t, opaque), "image/jpeg", 40, 30, func(r, g, b, a uint32) bool { return r > g && r > b }},
		{"png opaque → jpeg", encodePNG(t, opaque), "image/jpeg", 40, 30, nil},
		{"png with alpha → png", encodePNG(t, translucent), "image/png", 40, 30, func(r, g, b, a uint32) bool { return a < 0xffff && a > 0 }},
		{"gif", encodeGIF(t, solid(16, 8, color.RGBA{0, 0, 255, 255})), "image/jpeg", 16, 8, nil},
		{"gif transparent → png", transparentGIF(t), "image/png", 4, 4, nil},
		{"gif animated: first frame", animatedGIF(t), "image/jpeg", 4, 4, func(r, g, b, a uint32) bool { return r > b }},
		{"webp lossless", readTestdata(t, "tiny-lossless-3x2.webp"), "image/jpeg", 3, 2, func(r, g, b, a uint32) bool { return r > g && r > b }},
		{"webp lossy", readTestdata(t, "tiny-lossy-3x2.webp"), "image/jpeg", 3, 2, nil},
		{"webp with alpha → png", readTestdata(t, "tiny-alpha-3x2.webp"), "image/png", 3, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := process(bytes.NewReader(tt.in), media.DefaultLimits())
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if got.ContentType != tt.wantType || got.Width != tt.wantW || got.Height != tt.wantH {
				t.Errorf("got %s %dx%d, want %s %dx%d", got.ContentType, got.Width, got.Height, tt.wantType, tt.wantW, tt.wantH)
			}
			decoded := checkOutput(t, got)
			if tt.wantInColor != nil {
				c := decoded.At(got.Width/2, got.Height/2)
				if r, g, b, a := c.RGBA(); !tt.wantInColor(r, g, b, a) {
					t.Errorf("centre pixel %v not as expected", c)
				}
			}
		})
	}
}

func TestProcessRejects(t *testing.T) {
	lim := media.DefaultLimits()
	truncated := encodeJPEG(t, solid(64, 64, color.RGBA{1, 2, 3, 255}))
	truncated = truncated[:len(truncated)*2/3]
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, media.ErrUnsupported},
		{"text", []byte("hello, this is not an image\n"), media.ErrUnsupported},
		{"html", []byte("<!DOCTYPE html><html><body><img src=x></body></html>"), media.ErrUnsupported},
		{"bmp", append([]byte("BM"), make([]byte, 64)...), media.ErrUnsupported},
		{"riff but not webp", []byte("RIFF\x10\x00\x00\x00WAVEfmt "), media.ErrUnsupported},
		{"png 20000x20000", pngHeaderOnly(20000, 20000), media.ErrTooManyPixels},
		{"png 1x40000001", pngHeaderOnly(1, 40_000_001), media.ErrTooManyPixels},
		{"png 2147483647² (rejected by the PNG header parser)", pngHeaderOnly(1<<31-1, 1<<31-1), media.ErrUndecodable},
		{"jpeg 65000x65000", jpegWithDims(t, 65000, 65000), media.ErrTooManyPixels},
		{"jpeg zero width", jpegWithDims(t, 0, 8), media.ErrTooManyPixels},
		{"truncated jpeg", truncated, media.ErrUndecodable},
		{"jpeg magic then junk", append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte{0x42}, 100)...), media.ErrUndecodable},
		{"png signature only", []byte("\x89PNG\r\n\x1a\n"), media.ErrUndecodable},
		{"webp header only", []byte("RIFF\x04\x00\x00\x00WEBP"), media.ErrUndecodable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := process(bytes.NewReader(tt.in), lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestProcessPixelLimitBeforeDecode(t *testing.T) {
	in := pngHeaderOnly(20000, 20000)
	if len(in) > 100 {
		t.Fatalf("header-only PNG is %d bytes, want ~33", len(in))
	}
	// A full decode of 20000×20000 RGBA would need 1.6 GB and, with no
	// pixel data present, would fail as ErrUndecodable. Getting
	// ErrTooManyPixels quickly with little allocation proves only the header
	// was looked at.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := process(bytes.NewReader(in), media.DefaultLimits())
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, media.ErrTooManyPixels) {
		t.Fatalf("err = %v, want ErrTooManyPixels", err)
	}
	if elapsed > time.Second {
		t.Errorf("took %v", elapsed)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d bytes, want far less than a decode", alloc)
	}
}

// countingReader yields an endless JPEG-looking stream and counts the bytes
// handed out.
type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		switch c.n + int64(i) {
		case 0, 2:
			p[i] = 0xFF
		case 1:
			p[i] = 0xD8
		default:
			p[i] = 0
		}
	}
	c.n += int64(len(p))
	return len(p), nil
}

func TestProcessTooLarge(t *testing.T) {
	lim := media.Limits{MaxBytes: 4096, MaxPixels: 1 << 20, MaxSide: 64}

	r := &countingReader{}
	if _, err := process(r, lim); !errors.Is(err, media.ErrTooLarge) {
		t.Fatalf("endless body: err = %v, want ErrTooLarge", err)
	}
	if r.n > lim.MaxBytes+1 {
		t.Errorf("read %d bytes from an oversized body, want at most MaxBytes+1 = %d", r.n, lim.MaxBytes+1)
	}

	// Exactly MaxBytes+1 bytes is too large; exactly MaxBytes is not.
	img := encodePNG(t, solid(8, 8, color.White))
	over := append(img, make([]byte, int(lim.MaxBytes)+1-len(img))...)
	if _, err := process(bytes.NewReader(over), lim); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("MaxBytes+1: err = %v, want ErrTooLarge", err)
	}
	exact := over[:lim.MaxBytes] // PNG followed by padding after IEND
	if _, err := process(bytes.NewReader(exact), lim); err != nil {
		t.Errorf("exactly MaxBytes: err = %v, want nil", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestProcessReadError(t *testing.T) {
	_, err := process(failingReader{}, media.DefaultLimits())
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err = %v, want the read error", err)
	}
}

func TestProcessStripsEXIFGPS(t *testing.T) {
	in := withEXIF(encodeJPEG(t, solid(32, 24, color.RGBA{90, 120, 150, 255})), exifAPP1(0))
	// The input really carries the GPS data, and Go's decoder accepts it.
	if !bytes.Contains(in, []byte("Exif\x00\x00MM")) {
		t.Fatal("builder did not embed EXIF")
	}
	if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("input with EXIF does not decode: %v", err)
	}
	got, err := process(bytes.NewReader(in), media.DefaultLimits())
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	checkOutput(t, got)
	if got.Width != 32 || got.Height != 24 {
		t.Errorf("size %dx%d, want 32x24 (no orientation tag)", got.Width, got.Height)
	}
	if bytes.Contains(got.Data, []byte{0xFF, 0xE1}) {
		t.Error("output has an APP1 marker")
	}
	// The GPS latitude rationals 48/1 51/1 29/1 must be gone.
	if bytes.Contains(got.Data, []byte{0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51}) {
		t.Error("output contains the GPS latitude")
	}
}

func TestProcessEXIFOrientation(t *testing.T) {
	// 20×10: left half red, right half blue.
	src := image.NewNRGBA(image.Rect(0, 0, 20, 10))
	for y := range 10 {
		for x := range 20 {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= 10 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			src.Set(x, y, c)
		}
	}
	in := withEXIF(encodeJPEG(t, src), exifAPP1(6))
	got, err := process(bytes.NewReader(in), media.DefaultLimits())
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	out := checkOutput(t, got)
	if got.Width != 10 || got.Height != 20 {
		t.Fatalf("size %dx%d, want 10x20", got.Width, got.Height)
	}
	// Orientation 6 = rotate 90° clockwise to display: the left (red) half
	// ends up on top.
	r, _, b, _ := out.At(5, 3).RGBA()
	if r < b {
		t.Errorf("top is not red: %v", out.At(5, 3))
	}
	r, _, b, _ = out.At(5, 16).RGBA()
	if b < r {
		t.Errorf("bottom is not blue: %v", out.At(5, 16))
	}
}

func TestProcessScaling(t *testing.T) {
	tests := []struct {
		name         string
		in           []byte
		lim          media.Limits
		wantW, wantH int
	}{
		{"3000x2000 → 1080x720", encodeJPEG(t, solid(3000, 2000, color.RGBA{10, 100, 200, 255})), media.DefaultLimits(), 1080, 720},
		{"portrait 600x1200 → 540x1080", encodePNG(t, solid(600, 1200, color.White)), media.DefaultLimits(), 540, 1080},
		{"1080x1080 untouched", encodePNG(t, solid(1080, 1080, color.White)), media.DefaultLimits(), 1080, 1080},
		{"small not upscaled", encodeJPEG(t, solid(100, 50, color.Black)), media.DefaultLimits(), 100, 50},
		{"custom MaxSide", encodePNG(t, solid(200, 100, color.White)), media.Limits{MaxSide: 50}, 50, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := process(bytes.NewReader(tt.in), tt.lim)
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			checkOutput(t, got)
			if got.Width != tt.wantW || got.Height != tt.wantH {
				t.Errorf("size %dx%d, want %dx%d", got.Width, got.Height, tt.wantW, tt.wantH)
			}
		})
	}
}

func FuzzProcess(f *testing.F) {
	f.Add(encodeJPEG(f, solid(8, 8, color.White)))
	f.Add(encodePNG(f, solid(8, 8, color.NRGBA{1, 2, 3, 100})))
	f.Add(encodeGIF(f, solid(8, 8, color.Black)))
	f.Add(animatedGIF(f))
	f.Add(readTestdata(f, "tiny-lossless-3x2.webp"))
	f.Add(readTestdata(f, "tiny-lossy-3x2.webp"))
	f.Add(readTestdata(f, "tiny-alpha-3x2.webp"))
	f.Add(withEXIF(encodeJPEG(f, solid(8, 4, color.White)), exifAPP1(6)))
	f.Add(pngHeaderOnly(20000, 20000))
	f.Add([]byte("not an image"))

	lim := media.Limits{MaxBytes: 1 << 16, MaxPixels: 1 << 16, MaxSide: 64}
	sentinels := []error{media.ErrTooLarge, media.ErrUnsupported, media.ErrTooManyPixels, media.ErrTooCostly, media.ErrUndecodable}
	f.Fuzz(func(t *testing.T, in []byte) {
		img, err := process(bytes.NewReader(in), lim)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v is none of the sentinels of Check and Process", err)
		}
		if len(img.Data) == 0 || img.Width < 1 || img.Height < 1 || img.Width > lim.MaxSide || img.Height > lim.MaxSide {
			t.Fatalf("bad image: %s %dx%d, %d bytes", img.ContentType, img.Width, img.Height, len(img.Data))
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(img.Data))
		if err != nil || cfg.Width != img.Width || cfg.Height != img.Height {
			t.Fatalf("output header %+v, err %v; Image says %dx%d", cfg, err, img.Width, img.Height)
		}
	})
}

var _ io.Reader = (*countingReader)(nil)
