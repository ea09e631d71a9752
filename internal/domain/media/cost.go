package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The memory estimates of Check. Each mirrors what Go's decoder of the
// format allocates for a header (Go 1.26 image/png, image/jpeg, image/gif;
// golang.org/x/image/webp), plus what Process allocates to scale and
// re-encode; TestCostCoversAllocations compares them with real allocations.
// They are upper bounds: allocations that become garbage during a decode
// (an interlaced PNG's passes, a temporary buffer) are counted as if they
// lived to the end.

const (
	// fixedCost covers decoder tables, the encoders' state and buffers.
	fixedCost = 2 << 20
	// maxJPEGScans bounds a progressive JPEG's scans: each one walks every
	// block of its components again (CPU, not memory). Encoders write about
	// 10.
	maxJPEGScans = 100
	// vp8lPerByte and vp8lHuffmanMax bound the Huffman tables of lossless
	// WebP data: x/image/webp accepts up to 2600 groups of 5 trees, each
	// group up to ~78 KB (nodes and temporaries for a 2328-symbol alphabet
	// with a 2^11 colour cache), and a tree of n symbols takes at least
	// n/3 bits to declare, so at most ~600 bytes of tables per byte of data.
	vp8lPerByte    = 600
	vp8lHuffmanMax = 2600 * 78 << 10
)

// decodeCost estimates the memory decoding u takes (and, for a JPEG, reads
// its EXIF orientation into u). The header has been parsed by the format's
// DecodeConfig, so its fixed fields are present.
func decodeCost(u *Upload) (int64, error) {
	w, h := int64(u.width), int64(u.height)
	var c int64
	switch u.f {
	case formatPNG:
		c = pngCost(u.data, w, h)
	case formatJPEG:
		info, err := readJPEG(u.data)
		if err != nil {
			return 0, err
		}
		u.orientation = info.orientation
		c = info.cost(w, h)
	case formatGIF:
		// The first frame (no larger than the screen) as paletted pixels,
		// and a second copy when it is interlaced.
		c = 2 * w * h
	case formatWebP:
		c = webpCost(u.data, w, h)
	}
	// Decoders may hold a copy of (part of) the input.
	return c + int64(len(u.data)) + fixedCost, nil
}

// processCost estimates what Process allocates after decoding a w×h image:
// imaging.Resize's two passes (each an NRGBA, a weight table and a row per
// goroutine) or imaging.Clone, a rotated copy, and the encoded output.
func processCost(width, height, side, procs int) int64 {
	w, h := int64(width), int64(height)
	dw, dh := fitSize(width, height, side)
	ow, oh := int64(dw), int64(dh)
	p := int64(procs)
	var c int64
	if ow == w && oh == h {
		c += 4 * w * h // Clone
	}
	if ow != w { // horizontal pass: ow×h
		c += 4*ow*h + weightsCost(ow, w) + p*4*w
	}
	if oh != h { // vertical pass: ow×oh
		c += 4*ow*oh + weightsCost(oh, h) + p*4*h
	}
	c += 4 * ow * oh     // orientation
	c += 2 * 4 * ow * oh // encoded output, with a bytes.Buffer's growth
	return c
}

// weightsCost is imaging's precomputeWeights for a Lanczos (support 3)
// resize from src to dst pixels: 16-byte entries, 2×(ceil(3×scale)+2) per
// destination pixel, and a slice header each.
func weightsCost(dst, src int64) int64 {
	ru := (3*src + dst - 1) / dst // ceil(3 × src/dst)
	ru = max(ru, 3)
	return 16*dst*(ru+2)*2 + 24*dst
}

// pngCost: image/png decodes into one image whose type follows the colour
// type, bit depth and the presence of tRNS; an interlaced image is decoded
// pass by pass into smaller images first. Two rows of raw data are kept.
func pngCost(data []byte, w, h int64) int64 {
	// Signature (8), then IHDR: length (4), "IHDR", width, height (4 each),
	// depth, colour type, compression, filter, interlace.
	depth, ctype, interlaced := int64(data[24]), data[25], data[28] != 0
	trns := false
	for off := 33; off+8 <= len(data); {
		n := int64(binary.BigEndian.Uint32(data[off:]))
		typ := string(data[off+4 : off+8])
		if typ == "IDAT" {
			break
		}
		trns = trns || typ == "tRNS"
		off += 12 + int(min(n, int64(len(data))))
	}
	var channels, bpp int64 // raw channels; bytes per decoded pixel
	switch ctype {
	case 0: // grey: Gray, Gray16, or NRGBA(64) with tRNS
		channels, bpp = 1, 1
		if trns {
			bpp = 4
		}
	case 3: // paletted
		channels, bpp = 1, 1
	case 2: // RGB: RGBA(64), NRGBA(64) with tRNS
		channels, bpp = 3, 4
	case 4: // grey + alpha: NRGBA(64)
		channels, bpp = 2, 4
	default: // 6, RGBA: NRGBA(64)
		channels, bpp = 4, 4
	}
	if depth == 16 {
		bpp *= 2
	}
	c := w * h * bpp
	if interlaced {
		c *= 2
	}
	row := 1 + (w*channels*depth+7)/8
	return c + 2*row
}

// jpegInfo is what the memory of a JPEG decode depends on, read from its
// segments the way image/jpeg reads them.
type jpegInfo struct {
	progressive bool
	comps       [][2]int64 // per component: horizontal, vertical sampling factor
	ids         []byte     // component identifiers
	jfif        bool       // an APP0 JFIF segment
	adobe       bool       // an APP14 Adobe segment…
	transform   byte       // …and its colour transform
	scans       int
	orientation int // EXIF orientation of the first APP1 Exif segment, 0 = none
}

// readJPEG walks the segments of a JPEG up to EOI, skipping the entropy-
// coded data after each SOS. It fails (ErrUndecodable) only on more than
// maxJPEGScans scans or no frame header.
func readJPEG(data []byte) (jpegInfo, error) {
	var info jpegInfo
	i := 2 // after SOI
	for i+1 < len(data) {
		if data[i] != 0xFF { // junk between segments, as image/jpeg allows
			i++
			continue
		}
		m := data[i+1]
		i += 2
		switch {
		case m == 0xFF: // fill byte
			i--
			continue
		case m == 0x00, 0xD0 <= m && m <= 0xD7: // stuffing, restart
			continue
		case m == 0xD9: // EOI
			i = len(data)
			continue
		}
		if i+2 > len(data) {
			break
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || i+n > len(data) {
			break
		}
		seg := data[i+2 : i+n]
		i += n
		switch m {
		case 0xC0, 0xC1, 0xC2: // SOF: precision, height, width, components
			if len(seg) < 6 || info.comps != nil {
				break
			}
			info.progressive = m == 0xC2
			for k := 0; k < int(seg[5]) && 6+3*k+2 < len(seg); k++ {
				hv := seg[6+3*k+1]
				info.ids = append(info.ids, seg[6+3*k])
				info.comps = append(info.comps, [2]int64{int64(hv >> 4), int64(hv & 0x0F)})
			}
		case 0xE0: // APP0
			if len(seg) >= 5 {
				info.jfif = string(seg[:5]) == "JFIF\x00"
			}
		case 0xE1: // APP1
			if info.orientation == 0 {
				info.orientation = exifOrientation(seg)
			}
		case 0xEE: // APP14
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				info.adobe, info.transform = true, seg[11]
			}
		case 0xDA: // SOS, then entropy-coded data up to the next marker
			info.scans++
			if info.scans > maxJPEGScans {
				return jpegInfo{}, fmt.Errorf("%w: more than %d scans", ErrUndecodable, maxJPEGScans)
			}
			i = skipEntropyCoded(data, i)
		}
	}
	if len(info.comps) == 0 {
		return jpegInfo{}, fmt.Errorf("%w: no frame header", ErrUndecodable)
	}
	return info, nil
}

// skipEntropyCoded returns the index of the first marker at or after i that
// ends entropy-coded data (0xFF followed by neither 0x00, 0xFF nor RSTn).
func skipEntropyCoded(data []byte, i int) int {
	for {
		k := bytes.IndexByte(data[i:], 0xFF)
		if k < 0 || i+k+1 >= len(data) {
			return len(data)
		}
		i += k
		if b := data[i+1]; b != 0x00 && b != 0xFF && (b < 0xD0 || b > 0xD7) {
			return i
		}
		i++
	}
}

// cost is image/jpeg's allocation for a w×h image: the component planes in
// whole MCUs (8×8 blocks × sampling factors), for a progressive image a
// 4-byte coefficient per plane byte, and an RGBA/CMYK copy for 4-component
// and RGB images.
func (j jpegInfo) cost(w, h int64) int64 {
	h0, v0 := j.comps[0][0], j.comps[0][1]
	if len(j.comps) == 1 { // image/jpeg treats a grey image as 1×1
		h0, v0 = 1, 1
	}
	h0, v0 = max(h0, 1), max(v0, 1)
	mxx, myy := (w+8*h0-1)/(8*h0), (h+8*v0-1)/(8*v0)
	var units int64 // blocks per MCU
	for _, c := range j.comps {
		if len(j.comps) == 1 {
			units++
		} else {
			units += c[0] * c[1]
		}
	}
	blocks := mxx * myy * units
	c := 64 * blocks
	if j.progressive {
		c += 4 * 64 * blocks
	}
	rgb := !j.jfif && ((j.adobe && j.transform == 0) ||
		len(j.ids) == 3 && j.ids[0] == 'R' && j.ids[1] == 'G' && j.ids[2] == 'B')
	if len(j.comps) == 4 || len(j.comps) == 3 && rgb {
		c += 4 * w * h
	}
	return c
}

// exifOrientation reads the Orientation tag (0x0112) of IFD0 from an APP1
// segment's payload ("Exif\0\0" and a TIFF structure); 0 when there is none
// or it is not 1..8.
func exifOrientation(seg []byte) int {
	if len(seg) < 14 || string(seg[:6]) != "Exif\x00\x00" {
		return 0
	}
	tiff := seg[6:]
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int64(bo.Uint32(tiff[4:]))
	if off < 8 || off+2 > int64(len(tiff)) {
		return 0
	}
	n := int64(bo.Uint16(tiff[off:]))
	for e := off + 2; e+12 <= int64(len(tiff)) && e < off+2+12*n; e += 12 {
		if bo.Uint16(tiff[e:]) == 0x0112 && bo.Uint16(tiff[e+2:]) == 3 { // SHORT
			if o := int(bo.Uint16(tiff[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 0
		}
	}
	return 0
}

// webpCost: lossy data (VP8) decodes into 4:2:0 planes in whole 16×16
// macroblocks; lossless data (VP8L, and the alpha plane of a lossy image)
// into NRGBA with a second buffer for a colour-indexing transform, plus its
// Huffman tables (vp8lPerByte).
func webpCost(data []byte, w, h int64) int64 {
	lossy := 2 * ((w + 15) / 16 * 16) * ((h + 15) / 16 * 16)
	lossless := func(n int64) int64 { return 9*w*h + min(vp8lHuffmanMax, vp8lPerByte*n) }
	var c int64
	// RIFF header (12), then chunks: FourCC, little-endian size, data
	// padded to an even length.
	for off := 12; off+8 <= len(data); {
		n := int64(binary.LittleEndian.Uint32(data[off+4:]))
		n = min(n, int64(len(data)-off-8))
		switch string(data[off : off+4]) {
		case "VP8 ":
			return c + lossy
		case "VP8L":
			return c + lossless(n)
		case "ALPH":
			c += lossless(n)
		}
		off += 8 + int(n+n&1)
	}
	return c + lossy // no image data: the decode fails early
}
