package apptest_test

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

// ctFetch GETs a served media URL (relative to the server).
func ctFetch(t testing.TB, e *apptest.Env, url string) (int, string, []byte) {
	t.Helper()
	r := e.Do(apptest.Request{Method: "GET", Path: url})
	return r.Status, r.Header.Get("Content-Type"), r.Body
}

func TestContractAvatarUpload(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	var first string
	for i, up := range []struct {
		name string
		data []byte
	}{
		{"a.png", ctPNG(t, 64, 48)},
		{"b.jpg", ctJPEG(t, 2000, 1000)},
		{"no-extension", ctPNG(t, 10, 10)},
	} {
		r := e.Upload("PUT", ctAvatarPath, tok, "avatar", up.name, up.data)
		ctExpect(t, r, 200, 0)
		var av struct {
			Avatar string `json:"avatar"`
		}
		r.Decode(t, &av)
		if !strings.HasPrefix(av.Avatar, "/media/avatars/") {
			t.Fatalf("avatar url %q", av.Avatar)
		}
		if got := ctMe(t, e, tok)["avatar"]; got != av.Avatar {
			t.Errorf("Me.avatar %v, want %s", got, av.Avatar)
		}
		status, ct, body := ctFetch(t, e, av.Avatar)
		if status != 200 || (ct != "image/jpeg" && ct != "image/png") {
			t.Fatalf("GET %s: %d %s", av.Avatar, status, ct)
		}
		img, _, err := image.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("served avatar does not decode: %v", err)
		}
		if b := img.Bounds(); b.Dx() > 1080 || b.Dy() > 1080 {
			t.Errorf("served avatar %dx%d, want at most 1080 px", b.Dx(), b.Dy())
		}
		if i == 1 && img.Bounds().Dx() != 1080 {
			t.Errorf("2000x1000 scaled to %v, want 1080 wide", img.Bounds())
		}
		if i == 0 {
			first = av.Avatar
		}
	}
	// The replaced avatar's file is deleted (by a task).
	e.WaitFor("old avatar deleted", func() bool {
		s, _, _ := ctFetch(t, e, first)
		return s == 404
	})
}

func TestContractAvatarStripsEXIF(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	r := e.Upload("PUT", ctAvatarPath, tok, "avatar", "gps.jpg", ctEXIFJPEG(t))
	ctExpect(t, r, 200, 0)
	var av struct {
		Avatar string `json:"avatar"`
	}
	r.Decode(t, &av)
	status, _, body := ctFetch(t, e, av.Avatar)
	if status != 200 {
		t.Fatalf("GET %s: %d", av.Avatar, status)
	}
	if bytes.Contains(body, []byte("Exif")) || bytes.Contains(body, ctGPSLatitude) {
		t.Error("the served avatar still carries EXIF / GPS data")
	}
	// Same for an album photo.
	r = e.Upload("POST", ctPhotosPath, tok, "photo", "gps.jpg", ctEXIFJPEG(t))
	ctExpect(t, r, 200, 0)
	var p struct {
		URL string `json:"url"`
	}
	r.Decode(t, &p)
	status, _, body = ctFetch(t, e, p.URL)
	if status != 200 || bytes.Contains(body, []byte("Exif")) || bytes.Contains(body, ctGPSLatitude) {
		t.Errorf("served photo: %d, carries EXIF: %v", status, bytes.Contains(body, []byte("Exif")))
	}
}

// ctMultipart builds a multipart body with the given parts (field → data),
// in order; file parts have a filename.
func ctMultipart(t testing.TB, parts ...[2]any) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		fw, err := mw.CreateFormFile(p[0].(string), "f.bin")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(p[1].([]byte))
	}
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

func TestContractUploadErrors(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	over8 := append(ctPNG(t, 4, 4), make([]byte, 8<<20)...) // 8 MiB + a few hundred bytes
	exactly8plus1 := make([]byte, 8<<20+1)
	copy(exactly8plus1, ctPNG(t, 4, 4))
	over9 := append(ctPNG(t, 4, 4), make([]byte, 9<<20+100)...)
	for _, rt := range []struct{ method, path, field string }{
		{"PUT", ctAvatarPath, "avatar"},
		{"POST", ctPhotosPath, "photo"},
	} {
		cases := []struct {
			name   string
			field  string
			data   []byte
			status int
			code   int
		}{
			{"20000x20000 png", rt.field, ctPNGHeaderOnly(20000, 20000), 400, 1011},
			{"zero width png", rt.field, ctPNGHeaderOnly(0, 10), 400, 1011},
			{"truncated png", rt.field, ctPNG(t, 50, 50)[:60], 400, 1011},
			{"text file", rt.field, []byte("hello, this is not an image\n"), 415, 1011},
			{"empty file", rt.field, []byte{}, 415, 1011},
			{"svg", rt.field, []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 415, 1011},
			{"8 MiB + 1", rt.field, exactly8plus1, 413, 1011},
			{"over 8 MiB", rt.field, over8, 413, 1011},
			{"body over 9 MiB", rt.field, over9, 413, 4002},
			{"missing field", "file", ctPNG(t, 4, 4), 400, 1000},
		}
		for _, c := range cases {
			t.Run(rt.field+"/"+c.name, func(t *testing.T) {
				r := e.Upload(rt.method, rt.path, tok, c.field, "x.png", c.data)
				ctExpect(t, r, c.status, c.code)
				if c.code == 1000 {
					ctErrFields(t, r, rt.field)
				}
			})
		}
		// Not multipart at all.
		r := e.Do(apptest.Request{Method: rt.method, Path: rt.path, Token: tok, JSON: `{"avatar":"x"}`})
		ctExpect(t, r, 400, 1001)
		r = e.Do(apptest.Request{Method: rt.method, Path: rt.path, Token: tok, Body: bytes.NewReader(ctPNG(t, 4, 4)), ContentType: "image/png"})
		ctExpect(t, r, 400, 1001)
		// A malformed multipart body.
		r = e.Do(apptest.Request{Method: rt.method, Path: rt.path, Token: tok, Body: strings.NewReader("garbage"),
			ContentType: "multipart/form-data; boundary=xyz"})
		ctExpect(t, r, 400, 1001)
		// The file field after another big field: the whole body counts (9 MiB).
		body, ct := ctMultipart(t, [2]any{"other", make([]byte, 5<<20)}, [2]any{rt.field, ctPNG(t, 4, 4)})
		r = e.Do(apptest.Request{Method: rt.method, Path: rt.path, Token: tok, Body: body, ContentType: ct})
		ctExpect(t, r, 200, 0)
		// Same over 9 MiB in total, sent chunked (no Content-Length).
		big2, ct2 := ctMultipart(t, [2]any{"other", make([]byte, 5<<20)}, [2]any{rt.field, append(ctPNG(t, 4, 4), make([]byte, 5<<20)...)})
		r = e.Do(apptest.Request{Method: rt.method, Path: rt.path, Token: tok, Body: io.MultiReader(big2), ContentType: ct2})
		ctExpect(t, r, 413, 4002)
	}
	// Nothing was stored by the failures (the two successes above are the only changes).
	me := ctMe(t, e, tok)
	if ph := me["photos"].([]any); len(ph) != 1 {
		t.Errorf("photos after rejected uploads: %v", ph)
	}
}

// API.md: the whole multipart body over 9 MiB is 4002, which comes before
// the image checks (1011) in the error order — also when the client streams
// the body without a Content-Length.
func TestContractUploadChunkedOver9MiBIs4002(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	body, ct := ctMultipart(t, [2]any{"avatar", append(ctPNG(t, 4, 4), make([]byte, 9<<20+100)...)})
	r := e.Do(apptest.Request{Method: "PUT", Path: ctAvatarPath, Token: tok, Body: io.MultiReader(body), ContentType: ct})
	ctCheck(t, r, 413, 4002)
}

func TestContractPhotos(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	other := e.Login("13912345678")
	var ids []int64
	var urls []string
	for i := 1; i <= 6; i++ {
		r := e.Upload("POST", ctPhotosPath, tok, "photo", fmt.Sprintf("%d.png", i), ctPNG(t, 10+i, 10))
		ctExpect(t, r, 200, 0)
		var p struct {
			ID       int64  `json:"id"`
			URL      string `json:"url"`
			Position int    `json:"position"`
		}
		r.Decode(t, &p)
		if p.Position != i || p.ID < 1 || !strings.HasPrefix(p.URL, "/media/photos/") {
			t.Errorf("photo %d: %s", i, r.Data)
		}
		ids = append(ids, p.ID)
		urls = append(urls, p.URL)
	}
	// 7th → 1012, and nothing stored.
	ctExpect(t, e.Upload("POST", ctPhotosPath, tok, "photo", "7.png", ctPNG(t, 8, 8)), 409, 1012)
	// A missing field is input (1000) even with a full album.
	ctExpect(t, e.Upload("POST", ctPhotosPath, tok, "file", "7.png", ctPNG(t, 8, 8)), 400, 1000)

	photos := func(tok string) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, p := range ctMe(t, e, tok)["photos"].([]any) {
			out = append(out, p.(map[string]any))
		}
		return out
	}
	if ps := photos(tok); len(ps) != 6 {
		t.Fatalf("%d photos", len(ps))
	}
	// Delete the 3rd: the rest are renumbered 1..5 in order.
	r := e.Do(apptest.Request{Method: "DELETE", Path: fmt.Sprintf("%s/%d", ctPhotosPath, ids[2]), Token: tok})
	ctExpect(t, r, 200, 0)
	if strings.TrimSpace(string(r.Body)) != `{"code":0,"data":null}` {
		t.Errorf("delete body %s", r.Body)
	}
	ps := photos(tok)
	wantIDs := []int64{ids[0], ids[1], ids[3], ids[4], ids[5]}
	if len(ps) != 5 {
		t.Fatalf("after delete: %v", ps)
	}
	for i, p := range ps {
		if int64(p["id"].(float64)) != wantIDs[i] || p["position"] != float64(i+1) {
			t.Errorf("after delete photo %d = %v, want id %d position %d", i, p, wantIDs[i], i+1)
		}
	}
	// Deleted again → 4000.
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: fmt.Sprintf("%s/%d", ctPhotosPath, ids[2]), Token: tok}), 404, 4000)
	// Now there is room again.
	r = e.Upload("POST", ctPhotosPath, tok, "photo", "again.png", ctPNG(t, 9, 9))
	ctExpect(t, r, 200, 0)
	if pos := ctObj(t, r)["position"]; pos != float64(6) {
		t.Errorf("new photo position %v, want 6", pos)
	}
	// Someone else's photo: 404 4000 and it stays.
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: fmt.Sprintf("%s/%d", ctPhotosPath, ids[0]), Token: other}), 404, 4000)
	if ps := photos(tok); len(ps) != 6 || int64(ps[0]["id"].(float64)) != ids[0] {
		t.Errorf("owner's photos after someone else's delete: %v", ps)
	}
	for _, p := range []struct {
		id     string
		status int
		code   int
	}{
		{"abc", 400, 1001}, {"0", 400, 1001}, {"-1", 400, 1001}, {"1.0", 400, 1001},
		{"9223372036854775808", 400, 1001}, {"999999999", 404, 4000},
	} {
		r := e.Do(apptest.Request{Method: "DELETE", Path: ctPhotosPath + "/" + p.id, Token: tok})
		if !ctCheck(t, r, p.status, p.code) {
			t.Logf("photo id %q", p.id)
		}
	}
	// The deleted photo's file goes away.
	e.WaitFor("deleted photo file removed", func() bool {
		s, _, _ := ctFetch(t, e, urls[2])
		return s == 404
	})
	if s, _, _ := ctFetch(t, e, urls[0]); s != 200 {
		t.Errorf("kept photo %s: %d", urls[0], s)
	}
}

// Error order (openapi.yaml): image errors (1011) count as input and come
// before conflicts (1012): a 7th upload that is not an image is 415/1011.
func TestContractPhotoAlbumFullVersusBadImage(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	for i := 0; i < 6; i++ {
		ctExpect(t, e.Upload("POST", ctPhotosPath, tok, "photo", "p.png", ctPNG(t, 8, 8)), 200, 0)
	}
	ctCheck(t, e.Upload("POST", ctPhotosPath, tok, "photo", "x.txt", []byte("not an image at all")), 415, 1011)
}

func TestContractMediaServing(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	for _, p := range []string{"/media/", "/media/avatars/", "/media/../swiper.db", "/media/avatars/nope.jpg"} {
		r := e.Do(apptest.Request{Method: "GET", Path: p})
		if r.Status == 200 {
			t.Errorf("GET %s: 200 (%d bytes)", p, len(r.Body))
		}
	}
}
