package mediatest_test

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"testing"

	"github.com/swiper-social/swiper/internal/domain/media/mediatest"
)

// Every generated file decodes in full with Go's decoders, to the declared
// size and the expected image type.
func TestGeneratedImagesDecode(t *testing.T) {
	for _, c := range []struct {
		name, typ string
		b         []byte
	}{
		{"png 16-bit rgba", "*image.NRGBA64", mediatest.HostilePNG(100, 70)},
		{"png interlaced rgb trns", "*image.NRGBA", mediatest.PNG(100, 70, 8, 2, true, true)},
		{"png paletted", "*image.Paletted", mediatest.PNG(100, 70, 8, 3, false, true)},
		{"png grey 16-bit interlaced trns", "*image.NRGBA64", mediatest.PNG(100, 70, 16, 0, true, true)},
		{"jpeg progressive 4:4:4", "*image.YCbCr", mediatest.HostileJPEG(100, 70)},
		{"jpeg baseline 4:2:0", "*image.YCbCr", mediatest.JPEG(mediatest.JPEGSpec{Width: 100, Height: 70, Sampling: [][2]int{{2, 2}, {1, 1}, {1, 1}}})},
		{"jpeg progressive 4:2:0", "*image.YCbCr", mediatest.JPEG(mediatest.JPEGSpec{Width: 100, Height: 70, Progressive: true, Sampling: [][2]int{{2, 2}, {1, 1}, {1, 1}}})},
		{"jpeg grey", "*image.Gray", mediatest.JPEG(mediatest.JPEGSpec{Width: 100, Height: 70, Sampling: [][2]int{{1, 1}}})},
		{"jpeg rgb", "*image.RGBA", mediatest.JPEG(mediatest.JPEGSpec{Width: 100, Height: 70, RGB: true})},
		{"jpeg cmyk progressive", "*image.CMYK", mediatest.JPEG(mediatest.JPEGSpec{Width: 100, Height: 70, Progressive: true, Adobe: true,
			Sampling: [][2]int{{1, 1}, {1, 1}, {1, 1}, {1, 1}}})},
	} {
		img, _, err := image.Decode(bytes.NewReader(c.b))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := fmt.Sprintf("%T", img); got != c.typ || img.Bounds() != image.Rect(0, 0, 100, 70) {
			t.Errorf("%s: %s %v, want %s 100x70", c.name, got, img.Bounds(), c.typ)
		}
	}
}

// The hostile files of issue 10 are small.
func TestHostileFilesAreSmall(t *testing.T) {
	if n := len(mediatest.HostilePNG(6324, 6324)); n > 512<<10 {
		t.Errorf("6324² 16-bit PNG is %d bytes", n)
	}
	if n := len(mediatest.HostileJPEG(6324, 6324)); n > 256<<10 {
		t.Errorf("6324² progressive JPEG is %d bytes", n)
	}
}
