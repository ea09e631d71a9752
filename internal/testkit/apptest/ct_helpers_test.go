package apptest_test

// Helpers of the contract tests (ct_*_test.go). Every name starts with ct so
// that it cannot clash with other test files of this package.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

const (
	ctCodesPath    = "/api/v1/verification-codes"
	ctSessionsPath = "/api/v1/sessions"
	ctMePath       = "/api/v1/users/me"
	ctProfilePath  = "/api/v1/users/me/profile"
	ctAvatarPath   = "/api/v1/users/me/avatar"
	ctPhotosPath   = "/api/v1/users/me/photos"
)

// ctIPLimit sets the per-IP code limit.
func ctIPLimit(n int) apptest.Option {
	return func(c *config.Config, _ *app.Options) { c.OTPIPLimit = n }
}

// ctTrustLocalhost trusts 127.0.0.1 (the httptest peer) as a proxy.
func ctTrustLocalhost() apptest.Option {
	return func(c *config.Config, _ *app.Options) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
}

// ctPolicy adjusts the OTP policy.
func ctPolicy(f func(p otp.Policy) otp.Policy) apptest.Option {
	return func(_ *config.Config, o *app.Options) { o.OTPPolicy = f }
}

// ctExpect fails unless r has the HTTP status and API code.
func ctExpect(t testing.TB, r *apptest.Response, status, code int) {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Fatalf("got HTTP %d code %d, want HTTP %d code %d; body %s", r.Status, r.Code, status, code, r.Body)
	}
}

// ctCheck is ctExpect without stopping the test.
func ctCheck(t testing.TB, r *apptest.Response, status, code int) bool {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Errorf("got HTTP %d code %d, want HTTP %d code %d; body %s", r.Status, r.Code, status, code, r.Body)
		return false
	}
	return true
}

// ctErrFields fails unless r.Errors names exactly the fields.
func ctErrFields(t testing.TB, r *apptest.Response, fields ...string) {
	t.Helper()
	got := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		got = append(got, k)
	}
	sort.Strings(got)
	want := append([]string{}, fields...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("errors names %v, want %v; body %s", got, want, r.Body)
	}
}

func ctRequestCodeRaw(e *apptest.Env, phone string, hdr http.Header) *apptest.Response {
	e.T.Helper()
	return e.Do(apptest.Request{Method: "POST", Path: ctCodesPath, JSON: map[string]string{"phone": phone}, Header: hdr})
}

func ctLoginRaw(e *apptest.Env, phone, code string) *apptest.Response {
	e.T.Helper()
	return e.Do(apptest.Request{Method: "POST", Path: ctSessionsPath, JSON: map[string]string{"phone": phone, "code": code}})
}

// ctWrongCode returns a 6-digit code different from code.
func ctWrongCode(code string, i int) string {
	for {
		c := fmt.Sprintf("%06d", (i*7919+123457)%1000000)
		if c != code {
			return c
		}
		i++
	}
}

// ctObj decodes r.Data as a JSON object.
func ctObj(t testing.TB, r *apptest.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatalf("data is not an object: %s", r.Data)
	}
	return m
}

// ctKeys returns the sorted keys of a JSON object.
func ctKeys(t testing.TB, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ctMe is GET /users/me (must succeed).
func ctMe(t testing.TB, e *apptest.Env, tok string) map[string]any {
	t.Helper()
	r := e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: tok})
	ctExpect(t, r, 200, 0)
	return ctObj(t, r)
}

// ctProfile is GET /users/me/profile (must succeed).
func ctProfile(t testing.TB, e *apptest.Env, tok string) map[string]any {
	t.Helper()
	r := e.Do(apptest.Request{Method: "GET", Path: ctProfilePath, Token: tok})
	ctExpect(t, r, 200, 0)
	return ctObj(t, r)
}

func ctPatch(e *apptest.Env, path, tok string, body any) *apptest.Response {
	e.T.Helper()
	return e.Do(apptest.Request{Method: "PATCH", Path: path, Token: tok, JSON: body})
}

// ctID is the id of the logged-in user.
func ctID(t testing.TB, e *apptest.Env, tok string) int64 {
	t.Helper()
	return int64(ctMe(t, e, tok)["id"].(float64))
}

// ctMorning moves the fake clock forward to the next 10:00 in the server's
// time zone, so that a test stepping minutes ahead never crosses a local
// midnight (daily counters) nor, for a while, an hour boundary.
func ctMorning(e *apptest.Env) {
	now := e.Clock.Now().In(e.Cfg.Timezone)
	t := time.Date(now.Year(), now.Month(), now.Day(), 10, 0, 0, 0, e.Cfg.Timezone)
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	e.Clock.Set(t)
}

// ctCookie returns the named cookie of a response's Set-Cookie headers.
func ctCookie(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// ctRegisterVIP registers phone (E.164) directly and grants it a VIP level
// until the fake time + d, before its first login: nothing of the user is
// cached yet, so the login and every later read see the level at once (on
// the production path Redis would otherwise keep the old row for up to an
// hour: a write through the store does not drop it; embedded, the server
// follows the database's commits, see store.UsersChanged).
func ctRegisterVIP(t testing.TB, e *apptest.Env, e164 string, level int, d time.Duration) int64 {
	t.Helper()
	ctx := context.Background()
	id, _, err := e.App.Profile.Register(ctx, e164)
	if err != nil {
		t.Fatal(err)
	}
	exp := e.Clock.Now().Add(d)
	if err := e.App.Store.SetVIP(ctx, id, level, &exp); err != nil {
		t.Fatal(err)
	}
	return id
}

// ---- images ----

func ctSolid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	return img
}

func ctPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, ctSolid(w, h, color.RGBA{200, 30, 60, 255})); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ctJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, ctSolid(w, h, color.RGBA{90, 120, 150, 255}), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ctPNGChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// ctPNGHeaderOnly is a PNG signature and an IHDR declaring w×h RGBA pixels,
// and no pixel data.
func ctPNGHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	return append([]byte("\x89PNG\r\n\x1a\n"), ctPNGChunk("IHDR", ihdr)...)
}

// ctGPSLatitude is the byte pattern of the GPS latitude rationals 48/1 51/1
// that ctEXIFJPEG embeds.
var ctGPSLatitude = []byte{0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51}

// ctEXIFJPEG is a real JPEG carrying an APP1 "Exif" segment whose GPS IFD
// holds GPSLatitudeRef N and GPSLatitude 48°51'29" (as in internal/media's tests).
func ctEXIFJPEG(t testing.TB) []byte {
	t.Helper()
	be := binary.BigEndian
	type entry struct {
		tag, typ     uint16
		count, value uint32
	}
	ifd0Len := uint32(2 + 12*1 + 4)
	gpsOff := 8 + ifd0Len
	gpsLen := uint32(2 + 12*2 + 4)
	ratOff := gpsOff + gpsLen
	ifd0 := []entry{{0x8825, 4, 1, gpsOff}}
	gps := []entry{{0x0001, 2, 2, uint32('N') << 24}, {0x0002, 5, 3, ratOff}}
	writeIFD := func(b []byte, es []entry) []byte {
		b = be.AppendUint16(b, uint16(len(es)))
		for _, e := range es {
			b = be.AppendUint16(b, e.tag)
			b = be.AppendUint16(b, e.typ)
			b = be.AppendUint32(b, e.count)
			b = be.AppendUint32(b, e.value)
		}
		return be.AppendUint32(b, 0)
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
	seg = append(seg, payload...)
	jpg := ctJPEG(t, 40, 30)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, jpg[2:]...)
	if !bytes.Contains(out, []byte("Exif")) || !bytes.Contains(out, ctGPSLatitude) {
		t.Fatal("EXIF builder broken")
	}
	return out
}
