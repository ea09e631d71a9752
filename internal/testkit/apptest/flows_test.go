package apptest_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/swiper-social/swiper/internal/adapters/blob/qiniufake"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestQiniuUploadFlow: with SWIPER_STORAGE=qiniu the avatar answer carries
// the local URL at once; the upload task sends the file to Qiniu (here a
// local fake that checks the upload token signature) and the stored URL
// switches to <domain>/<key>.
func TestQiniuUploadFlow(t *testing.T) {
	fake := qiniufake.New(t, "AK-test", "SK-test", "swiper-bucket")
	fake.FailUploads(1) // the first try fails: the task must retry
	qc := fake.Config()
	e := apptest.New(t, func(c *config.Config, o *app.Options) {
		c.Storage = "qiniu"
		c.Qiniu = config.Qiniu{AccessKey: "AK-test", SecretKey: "SK-test", Bucket: "swiper-bucket", Domain: qc.Domain, UpHost: qc.UpHost}
		o.HTTPClient = fake.Client()
	})
	tok := e.Login("13812340001")
	r := e.Upload("PUT", "/api/v1/users/me/avatar", tok, "avatar", "me.png", pngBytes(t, 64, 48))
	if r.Status != 200 {
		t.Fatalf("avatar: %d %s", r.Status, r.Body)
	}
	var av struct {
		Avatar string `json:"avatar"`
	}
	r.Decode(t, &av)
	if !strings.HasPrefix(av.Avatar, "/media/avatars/") {
		t.Fatalf("immediate avatar URL %q, want a local /media/ URL", av.Avatar)
	}
	key := strings.TrimPrefix(av.Avatar, "/media/")
	var me struct {
		Avatar string `json:"avatar"`
	}
	e.WaitFor("the avatar URL to switch to Qiniu", func() bool {
		r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/users/me", Token: tok})
		r.Decode(t, &me)
		return me.Avatar != av.Avatar
	})
	if want := strings.TrimSuffix(qc.Domain, "/") + "/" + key; me.Avatar != want && !strings.HasSuffix(me.Avatar, "/"+key) {
		t.Fatalf("avatar after upload %q, want %q", me.Avatar, want)
	}
	if _, ok := fake.Object(key); !ok {
		t.Fatalf("Qiniu has no object %s", key)
	}
	if uploads, _, rejected := fake.Stats(); rejected != 0 || uploads < 1 {
		t.Fatalf("the fake saw %d uploads and rejected %d requests (bad token?)", uploads, rejected)
	}
	// The bytes on Qiniu are the re-encoded image.
	obj, _ := fake.Object(key)
	if _, _, err := image.Decode(bytes.NewReader(obj.Data)); err != nil {
		t.Fatalf("uploaded object does not decode: %v", err)
	}
}

// TestYunzhixunFlow: with SWIPER_SMS_PROVIDER=yunzhixun the code request
// answers at once and the task delivers the code to the provider (a local
// fake), retrying after a failure.
func TestYunzhixunFlow(t *testing.T) {
	var calls atomic.Int32
	got := make(chan map[string]any, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if n == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		got <- m
		_, _ = w.Write([]byte(`{"code":"000000","msg":"OK"}`))
	}))
	defer srv.Close()
	e := apptest.New(t, func(c *config.Config, o *app.Options) {
		c.SMSProvider = "yunzhixun"
		c.Yunzhixun = config.Yunzhixun{URL: srv.URL, SID: "sid1", Token: "tok1", AppID: "app1", TemplateID: "tpl1"}
		o.SMSSender = nil
	})
	start := time.Now()
	r := e.Do(apptest.Request{Method: "POST", Path: "/api/v1/verification-codes", JSON: map[string]string{"phone": "13812340002"}})
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("code request waited for the provider (%s)", d)
	}
	var m map[string]any
	select {
	case m = <-got:
	case <-time.After(20 * time.Second):
		t.Fatalf("the provider never got the code (calls: %d)", calls.Load())
	}
	if m["mobile"] != "13812340002" || m["sid"] != "sid1" || m["templateid"] != "tpl1" {
		t.Fatalf("request %v", m)
	}
	code, _ := m["param"].(string)
	r = e.Do(apptest.Request{Method: "POST", Path: "/api/v1/sessions", JSON: map[string]string{"phone": "13812340002", "code": code}})
	if r.Status != 200 {
		t.Fatalf("login with the code the provider got: %d %s", r.Status, r.Body)
	}
	if strings.Contains(e.Logs.String(), code) {
		t.Fatal("the code appears in the logs")
	}
}
