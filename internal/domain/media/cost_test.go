package media_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/media"
	"github.com/swiper-social/swiper/internal/domain/media/mediatest"
)

var (
	s420 = [][2]int{{2, 2}, {1, 1}, {1, 1}}
	s444 = [][2]int{{1, 1}, {1, 1}, {1, 1}}
)

func bigGIF(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The estimate of Check is an upper bound of what processing really
// allocates (all of it, including garbage, so also of the peak), for every
// decoded image type, progressive and interlaced data, and the scaling and
// no-scaling paths. (Not compared under the race detector, which changes
// what allocates.)
func TestCostCoversAllocations(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"png 8-bit rgba 2000x1500", mediatest.PNG(2000, 1500, 8, 6, false, false)},
		{"png 16-bit rgba 1500x1200", mediatest.HostilePNG(1500, 1200)},
		{"png interlaced rgb+trns 1600x1200", mediatest.PNG(1600, 1200, 8, 2, true, true)},
		{"png 16-bit grey+trns interlaced 1200x900", mediatest.PNG(1200, 900, 16, 0, true, true)},
		{"png grey 500x400 (not scaled)", mediatest.PNG(500, 400, 8, 0, false, false)},
		{"png paletted 3000x200", mediatest.PNG(3000, 200, 8, 3, false, true)},
		{"png grey 1x20000", mediatest.PNG(1, 20000, 8, 0, false, false)},
		{"png grey 20000x2", mediatest.PNG(20000, 2, 8, 0, false, false)},
		{"jpeg baseline 4:2:0 3000x2000", mediatest.JPEG(mediatest.JPEGSpec{Width: 3000, Height: 2000, Sampling: s420})},
		{"jpeg baseline grey 2000x1000", mediatest.JPEG(mediatest.JPEGSpec{Width: 2000, Height: 1000, Sampling: [][2]int{{1, 1}}})},
		{"jpeg progressive 4:4:4 2000x1500", mediatest.JPEG(mediatest.JPEGSpec{Width: 2000, Height: 1500, Progressive: true, Sampling: s444})},
		{"jpeg progressive 4:2:0 2000x1500", mediatest.JPEG(mediatest.JPEGSpec{Width: 2000, Height: 1500, Progressive: true, Sampling: s420})},
		{"jpeg progressive grey 1500x1000", mediatest.JPEG(mediatest.JPEGSpec{Width: 1500, Height: 1000, Progressive: true, Sampling: [][2]int{{1, 1}}})},
		{"jpeg rgb 1200x900", mediatest.JPEG(mediatest.JPEGSpec{Width: 1200, Height: 900, RGB: true})},
		{"jpeg cmyk progressive 1200x900", mediatest.JPEG(mediatest.JPEGSpec{Width: 1200, Height: 900, Progressive: true, Adobe: true,
			Sampling: [][2]int{{1, 1}, {1, 1}, {1, 1}, {1, 1}}})},
		{"jpeg exif orientation 6, 2000x1000", withEXIF(mediatest.JPEG(mediatest.JPEGSpec{Width: 2000, Height: 1000, Sampling: s420}), exifAPP1(6))},
		{"jpeg exif orientation 8, 800x600 (not scaled)", withEXIF(mediatest.JPEG(mediatest.JPEGSpec{Width: 800, Height: 600, Sampling: s420}), exifAPP1(8))},
		{"gif 2000x1500", bigGIF(t, 2000, 1500)},
		{"webp lossless", readTestdata(t, "tiny-lossless-3x2.webp")},
		{"webp lossy", readTestdata(t, "tiny-lossy-3x2.webp")},
		{"webp alpha", readTestdata(t, "tiny-alpha-3x2.webp")},
	}
	p := media.NewProcessor(media.DefaultLimits())
	for _, tt := range tests {
		u, err := p.Check(bytes.NewReader(tt.in))
		if err != nil {
			t.Errorf("%s: Check: %v", tt.name, err)
			continue
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		img, err := p.Process(context.Background(), u)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Errorf("%s: Process: %v", tt.name, err)
			continue
		}
		alloc := int64(after.TotalAlloc - before.TotalAlloc)
		t.Logf("%-48s → %4dx%-4d allocated %6.1f MB, estimated %6.1f MB", tt.name, img.Width, img.Height, mb(alloc), mb(u.Cost()))
		if alloc > u.Cost() && !raceEnabled {
			t.Errorf("%s: allocated %d bytes, more than the estimate %d", tt.name, alloc, u.Cost())
		}
	}
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// The hostile files of issue 10 (a 311 KB PNG declaring 6324×6324 16-bit
// RGBA, a 229 KB progressive JPEG of that size), and others whose decode
// or scaling would need far more memory than their size suggests, are
// refused by Check, from their headers: quickly and without allocating.
func TestCheckRefusesCostlyImages(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"png 16-bit rgba 6324x6324", mediatest.HostilePNG(6324, 6324)},
		{"jpeg progressive 4:4:4 6324x6324", mediatest.HostileJPEG(6324, 6324)},
		{"jpeg progressive 4:2:0 6324x6324", mediatest.JPEG(mediatest.JPEGSpec{Width: 6324, Height: 6324, Progressive: true, Sampling: s420})},
		{"png interlaced rgba 5000x5000", mediatest.PNG(5000, 5000, 8, 6, true, false)},
		// 40 MB of grey pixels, but imaging's weight table for the 1080 px
		// side would take 3.8 GB.
		{"png grey 1x40000000", mediatest.PNG(1, 40_000_000, 8, 0, false, false)},
		// The two rows image/png keeps are 320 MB each.
		{"png 16-bit rgba 40000000x1", mediatest.HostilePNG(40_000_000, 1)},
	}
	lim := media.DefaultLimits()
	p := media.NewProcessor(lim)
	for _, tt := range tests {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := p.Check(bytes.NewReader(tt.in))
		runtime.ReadMemStats(&after)
		var le *media.LimitError
		if !errors.Is(err, media.ErrTooCostly) || !errors.As(err, &le) || le.Limit != lim.MaxMemory || le.Value <= lim.MaxMemory {
			t.Errorf("%s (%d bytes): err = %v, want ErrTooCostly with the limit", tt.name, len(tt.in), err)
			continue
		}
		// Check reads the file (ReadAll grows its buffer) and its header only.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(4*len(tt.in))+1<<20 && !raceEnabled {
			t.Errorf("%s: Check allocated %d bytes for a %d-byte file", tt.name, alloc, len(tt.in))
		}
		t.Logf("%-36s %7d bytes: %v", tt.name, len(tt.in), err)
	}
}

// A JPEG of more scans than any encoder writes is refused before decoding.
func TestCheckRefusesManyScans(t *testing.T) {
	in := mediatest.JPEG(mediatest.JPEGSpec{Width: 64, Height: 64, Progressive: true})
	eoi := len(in) - 2
	sos := bytes.LastIndex(in, []byte{0xFF, 0xDA})
	scan := in[sos:eoi] // SOS header and its data
	many := append([]byte{}, in[:eoi]...)
	for range 100 {
		many = append(many, scan...)
	}
	many = append(many, 0xFF, 0xD9)
	_, err := media.NewProcessor(media.DefaultLimits()).Check(bytes.NewReader(many))
	if !errors.Is(err, media.ErrUndecodable) || !strings.Contains(err.Error(), "scans") {
		t.Fatalf("101 scans: err = %v, want ErrUndecodable (scans)", err)
	}
	if _, err := process(bytes.NewReader(in), media.DefaultLimits()); err != nil {
		t.Fatalf("1 scan: %v", err)
	}
}

// Process waits for its share of the memory budget and for a decoder, at
// most MaxWait (then ErrBusy), and not beyond its context.
func TestProcessWaitsForBudget(t *testing.T) {
	ctx := context.Background()
	lim := media.Limits{MaxMemory: 64 << 20, Decoders: 2, MaxWait: 50 * time.Millisecond}
	p := media.NewProcessor(lim)
	u, err := p.Check(bytes.NewReader(encodePNG(t, solid(40, 30, color.White))))
	if err != nil {
		t.Fatal(err)
	}

	// The whole budget is taken: ErrBusy after MaxWait.
	release, err := p.Hold(ctx, lim.MaxMemory)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Process(ctx, u); !errors.Is(err, media.ErrBusy) {
		t.Fatalf("budget taken: err = %v, want ErrBusy", err)
	}
	// A cancelled request gets its context's error, not ErrBusy.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Process(cctx, u); !errors.Is(err, context.Canceled) || errors.Is(err, media.ErrBusy) {
		t.Fatalf("cancelled: err = %v, want context.Canceled", err)
	}
	// A decode waiting (with a long MaxWait) goes ahead once the budget is
	// given back.
	patient := media.NewProcessor(media.Limits{MaxMemory: lim.MaxMemory, Decoders: 1, MaxWait: time.Minute})
	releaseAll, err := patient.Hold(ctx, lim.MaxMemory)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := patient.Process(ctx, u)
		done <- err
	}()
	releaseAll()
	if err := <-done; err != nil {
		t.Fatalf("after the budget was given back: %v", err)
	}
	release()
	if _, err := p.Process(ctx, u); err != nil {
		t.Fatalf("budget free: %v", err)
	}

	// All decoders busy (no memory taken): ErrBusy too.
	one := media.NewProcessor(media.Limits{MaxMemory: lim.MaxMemory, Decoders: 1, MaxWait: 50 * time.Millisecond})
	releaseSlot, err := one.Hold(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseSlot()
	if _, err := one.Process(ctx, u); !errors.Is(err, media.ErrBusy) {
		t.Fatalf("decoder taken: err = %v, want ErrBusy", err)
	}
}

// The limit crossed is carried in the error, for the HTTP message.
func TestLimitErrorsCarryTheLimit(t *testing.T) {
	p := media.NewProcessor(media.Limits{MaxBytes: 1000, MaxPixels: 5000})
	var le *media.LimitError
	_, err := p.Check(bytes.NewReader(make([]byte, 1001)))
	if !errors.Is(err, media.ErrTooLarge) || !errors.As(err, &le) || le.Limit != 1000 {
		t.Errorf("too large: %v", err)
	}
	_, err = p.Check(bytes.NewReader(pngHeaderOnly(100, 51)))
	if !errors.Is(err, media.ErrTooManyPixels) || !errors.As(err, &le) || le.Limit != 5000 || le.Value != 5100 {
		t.Errorf("too many pixels: %v", err)
	}
}

// ---- peak memory of parallel uploads ----

// procStatus returns a "kB" field of /proc/self/status in bytes.
func procStatus(tb testing.TB, field string) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Skipf("no %s in /proc/self/status", field)
	return 0
}

// BenchmarkParallelUploadsPeakRSS processes 20 uploads at once through one
// Processor (as the server does) and reports the peak RSS above the RSS
// before (VmHWM, reset through /proc/self/clear_refs). "hostile" is 10 of
// each hostile file of issue 10 (the target: under 300 MB); "largest" is 20
// of the costliest images the default budget accepts, the worst case.
//
//	go test -run '^$' -bench ParallelUploadsPeakRSS -benchtime 3x ./internal/media
func BenchmarkParallelUploadsPeakRSS(b *testing.B) {
	sets := []struct {
		name string
		a, c []byte
	}{
		{"hostile", mediatest.HostilePNG(6324, 6324), mediatest.HostileJPEG(6324, 6324)},
		// Just within 128 MiB each (checked below).
		{"largest", mediatest.HostilePNG(3450, 3450), mediatest.JPEG(mediatest.JPEGSpec{Width: 4000, Height: 3200, Progressive: true, Sampling: s420})},
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			p := media.NewProcessor(media.DefaultLimits())
			if set.name == "largest" {
				for _, in := range [][]byte{set.a, set.c} {
					u, err := p.Check(bytes.NewReader(in))
					if err != nil {
						b.Fatalf("not accepted: %v", err)
					}
					b.Logf("estimate %.0f MB", mb(u.Cost()))
				}
			}
			runtime.GC()
			debug.FreeOSMemory()
			idle := procStatus(b, "VmRSS")
			if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
				b.Skipf("cannot reset the peak RSS: %v", err)
			}
			refused := 0
			var mu sync.Mutex
			for b.Loop() {
				var wg sync.WaitGroup
				for i := range 20 {
					in := set.a
					if i%2 == 1 {
						in = set.c
					}
					wg.Go(func() {
						u, err := p.Check(bytes.NewReader(in))
						if err == nil {
							_, err = p.Process(context.Background(), u)
						}
						if err != nil {
							mu.Lock()
							refused++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
			}
			peak := procStatus(b, "VmHWM")
			b.ReportMetric(mb(peak-idle), "peak-MB-above-idle")
			b.ReportMetric(float64(refused)/float64(b.N), "refused/op")
			fmt.Fprintf(os.Stderr, "%s: idle RSS %.0f MB, peak %.0f MB (+%.0f MB)\n", set.name, mb(idle), mb(peak), mb(peak-idle))
		})
	}
}
