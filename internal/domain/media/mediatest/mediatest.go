// Package mediatest generates images for tests of the upload path: small
// files that declare large or costly images (the hostile uploads of issue
// 10), built in code rather than committed. Every file is valid: Go's
// decoders decode it in full.
package mediatest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// PNG returns a w×h PNG of the given bit depth (8 or 16) and colour type
// (0 grey, 2 RGB, 3 paletted (depth 8 only), 4 grey + alpha, 6 RGBA), every
// byte of its pixel data zero, optionally Adam7-interlaced and with a tRNS
// chunk. Zeros compress about 800:1: a 6324×6324 16-bit RGBA image is
// ~390 KB and decodes to 320 MB.
func PNG(w, h int, depth, colorType byte, interlaced, trns bool) []byte {
	channels := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colorType]
	bitsPP := channels * int(depth)
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	il := byte(0)
	if interlaced {
		il = 1
	}
	ihdr = append(ihdr, depth, colorType, 0, 0, il)
	out.Write(chunk("IHDR", ihdr))
	if colorType == 3 {
		out.Write(chunk("PLTE", make([]byte, 3*256)))
	}
	if trns {
		switch colorType {
		case 0:
			out.Write(chunk("tRNS", []byte{0, 1}))
		case 2:
			out.Write(chunk("tRNS", []byte{0, 1, 0, 1, 0, 1}))
		case 3:
			out.Write(chunk("tRNS", []byte{0}))
		}
	}
	var idat bytes.Buffer
	z, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	passes := [][4]int{{0, 0, 1, 1}} // x0, y0, dx, dy
	if interlaced {
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	for _, p := range passes {
		pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]
		if pw <= 0 || ph <= 0 {
			continue
		}
		row := make([]byte, 1+(pw*bitsPP+7)/8) // filter type 0, zero pixels
		for range ph {
			_, _ = z.Write(row)
		}
	}
	_ = z.Close()
	out.Write(chunk("IDAT", idat.Bytes()))
	out.Write(chunk("IEND", nil))
	return out.Bytes()
}

func chunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// HostilePNG is a w×h 16-bit RGBA PNG (8 bytes per decoded pixel).
func HostilePNG(w, h int) []byte { return PNG(w, h, 16, 6, false, false) }

// JPEGSpec describes a JPEG for JPEG.
type JPEGSpec struct {
	Width, Height int
	Progressive   bool     // SOF2 with one DC scan (else baseline SOF0)
	Sampling      [][2]int // per component: horizontal, vertical factor; nil = 3 components 1×1 (4:4:4)
	RGB           bool     // component ids R, G, B and no JFIF segment (decoded as RGB)
	Adobe         bool     // an APP14 Adobe segment with transform 0 (needed with 4 components: CMYK)
}

// HostileJPEG is a w×h progressive 4:4:4 JPEG: image/jpeg holds a 4-byte
// coefficient per component sample on top of the 3 bytes per pixel.
func HostileJPEG(w, h int) []byte { return JPEG(JPEGSpec{Width: w, Height: h, Progressive: true}) }

// JPEG returns a uniform grey JPEG: every DC difference and every AC
// coefficient is zero, one bit per block and coefficient run, so a 6324×6324
// 4:4:4 progressive image is ~235 KB.
func JPEG(s JPEGSpec) []byte {
	samp := s.Sampling
	if samp == nil {
		samp = [][2]int{{1, 1}, {1, 1}, {1, 1}}
	}
	var out bytes.Buffer
	seg := func(marker byte, data []byte) {
		out.Write([]byte{0xFF, marker})
		_ = binary.Write(&out, binary.BigEndian, uint16(2+len(data)))
		out.Write(data)
	}
	out.Write([]byte{0xFF, 0xD8})
	if !s.RGB {
		seg(0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))
	}
	if s.Adobe {
		seg(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00"))
	}
	q := []byte{0x00} // table 0, 8-bit, all ones
	q = append(q, bytes.Repeat([]byte{1}, 64)...)
	seg(0xDB, q)
	sof := []byte{8}
	sof = binary.BigEndian.AppendUint16(sof, uint16(s.Height))
	sof = binary.BigEndian.AppendUint16(sof, uint16(s.Width))
	sof = append(sof, byte(len(samp)))
	for i, f := range samp {
		id := byte(i + 1)
		if s.RGB {
			id = "RGB"[i]
		}
		sof = append(sof, id, byte(f[0]<<4|f[1]), 0)
	}
	sofMarker := byte(0xC0)
	if s.Progressive {
		sofMarker = 0xC2
	}
	seg(sofMarker, sof)
	// One code of length 1 per table: DC category 0; AC end of block.
	seg(0xC4, append([]byte{0x00, 1}, append(make([]byte, 15), 0x00)...))
	if !s.Progressive {
		seg(0xC4, append([]byte{0x10, 1}, append(make([]byte, 15), 0x00)...))
	}
	sos := []byte{byte(len(samp))}
	for i := range samp {
		sos = append(sos, sof[6+3*i+0], 0x00)
	}
	if s.Progressive {
		sos = append(sos, 0, 0, 0) // DC only, no successive approximation
	} else {
		sos = append(sos, 0, 63, 0)
	}
	seg(0xDA, sos)
	// Blocks per MCU × MCUs; a block is one bit (DC) or two (DC, EOB).
	hmax, vmax := 1, 1
	units := 0
	for _, f := range samp {
		hmax, vmax = max(hmax, f[0]), max(vmax, f[1])
		units += f[0] * f[1]
	}
	if len(samp) == 1 {
		units = 1
		hmax, vmax = 1, 1
	}
	mcus := ((s.Width + 8*hmax - 1) / (8 * hmax)) * ((s.Height + 8*vmax - 1) / (8 * vmax))
	bits := mcus * units
	if !s.Progressive {
		bits *= 2
	}
	data := make([]byte, (bits+7)/8)
	if r := bits % 8; r != 0 {
		data[len(data)-1] = 0xFF >> r // pad with 1 bits
	}
	out.Write(data)
	out.Write([]byte{0xFF, 0xD9})
	return out.Bytes()
}
