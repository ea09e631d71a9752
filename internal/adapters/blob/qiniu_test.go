package blob_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/blob"
	"github.com/swiper-social/swiper/internal/adapters/blob/qiniufake"
)

const (
	testAK     = "test-access-key"
	testSK     = "test-secret-key"
	testBucket = "swiper-media"
)

func newQiniu(t *testing.T) (*blob.Qiniu, *qiniufake.Server) {
	t.Helper()
	fake := qiniufake.New(t, testAK, testSK, testBucket)
	q, err := blob.NewQiniu(fake.Config(), fake.Client())
	if err != nil {
		t.Fatalf("NewQiniu: %v", err)
	}
	return q, fake
}

func TestQiniuContract(t *testing.T) {
	testStorage(t, func(t *testing.T) blob.Storage {
		q, _ := newQiniu(t)
		return q
	})
}

func TestQiniuPutStoresInBucket(t *testing.T) {
	q, fake := newQiniu(t)
	url, err := q.Put(context.Background(), "avatars/a.png", []byte("\x89PNG..."), "image/png")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if url != fake.URL+"/avatars/a.png" {
		t.Errorf("URL = %q, want %s/avatars/a.png", url, fake.URL)
	}
	o, ok := fake.Object("avatars/a.png")
	if !ok || string(o.Data) != "\x89PNG..." || o.ContentType != "image/png" {
		t.Errorf("fake holds %+v, %v", o, ok)
	}
	if uploads, _, rejected := fake.Stats(); uploads != 1 || rejected != 0 {
		t.Errorf("uploads %d rejected %d, want 1 and 0", uploads, rejected)
	}
}

func TestQiniuUploadToken(t *testing.T) {
	q, _ := newQiniu(t)
	token := q.UploadToken("photos/k.jpg", time.Hour)
	parts := strings.Split(token, ":")
	if len(parts) != 3 || parts[0] != testAK {
		t.Fatalf("token %q is not AK:sign:policy", token)
	}
	mac := hmac.New(sha1.New, []byte(testSK))
	mac.Write([]byte(parts[2]))
	if want := base64.URLEncoding.EncodeToString(mac.Sum(nil)); parts[1] != want {
		t.Errorf("sign %q, want %q", parts[1], want)
	}
	raw, err := base64.URLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	var policy struct {
		Scope    string `json:"scope"`
		Deadline int64  `json:"deadline"`
	}
	if err := json.Unmarshal(raw, &policy); err != nil {
		t.Fatalf("policy JSON: %v", err)
	}
	if policy.Scope != testBucket+":photos/k.jpg" {
		t.Errorf("scope %q", policy.Scope)
	}
	if d := time.Until(time.Unix(policy.Deadline, 0)); d < 55*time.Minute || d > 61*time.Minute {
		t.Errorf("deadline in %v, want ~1h", d)
	}
}

func TestQiniuWrongSecretRejected(t *testing.T) {
	fake := qiniufake.New(t, testAK, testSK, testBucket)
	cfg := fake.Config()
	cfg.SecretKey = "wrong-secret"
	q, err := blob.NewQiniu(cfg, fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := q.Put(ctx, "a/b.jpg", []byte("x"), "image/jpeg"); err == nil {
		t.Error("Put with a wrong secret key succeeded")
	} else if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error leaks the secret: %v", err)
	}
	fake.Put("a/b.jpg", []byte("x"), "image/jpeg")
	if err := q.Delete(ctx, "a/b.jpg"); err == nil {
		t.Error("Delete with a wrong secret key succeeded")
	}
	if _, ok := fake.Object("a/b.jpg"); !ok {
		t.Error("object deleted despite a bad signature")
	}
	if _, _, rejected := fake.Stats(); rejected < 2 {
		t.Errorf("fake rejected %d requests, want >= 2", rejected)
	}
}

func TestQiniuWrongBucketRejected(t *testing.T) {
	fake := qiniufake.New(t, testAK, testSK, testBucket)
	cfg := fake.Config()
	cfg.Bucket = "other-bucket"
	q, err := blob.NewQiniu(cfg, fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Put(context.Background(), "a/b.jpg", []byte("x"), "image/jpeg"); err == nil {
		t.Error("Put to another bucket succeeded")
	}
}

func TestQiniuServerError(t *testing.T) {
	q, fake := newQiniu(t)
	fake.FailUploads(100)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := q.Put(ctx, "a/b.jpg", []byte("x"), "image/jpeg"); err == nil {
		t.Fatal("Put succeeded while the fake answers 503")
	}
	if _, ok := fake.Object("a/b.jpg"); ok {
		t.Error("object stored despite the failure")
	}
}

func TestQiniuUnreachable(t *testing.T) {
	fake := qiniufake.New(t, testAK, testSK, testBucket)
	cfg := fake.Config()
	cfg.Domain = "http://127.0.0.1:1" // nothing listens on port 1
	q, err := blob.NewQiniu(cfg, fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Get(context.Background(), "a/b.jpg"); err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get from an unreachable domain: err = %v, want a connection error", err)
	}
}

func TestQiniuURLAndConfig(t *testing.T) {
	base := blob.QiniuConfig{AccessKey: "ak", SecretKey: "sk", Bucket: "b"}
	for domain, want := range map[string]string{
		"cdn.example.com":          "https://cdn.example.com/avatars/x.jpg",
		"cdn.example.com/":         "https://cdn.example.com/avatars/x.jpg",
		"http://127.0.0.1:9000":    "http://127.0.0.1:9000/avatars/x.jpg",
		"https://img.example.com/": "https://img.example.com/avatars/x.jpg",
	} {
		cfg := base
		cfg.Domain = domain
		q, err := blob.NewQiniu(cfg, nil)
		if err != nil {
			t.Fatalf("NewQiniu(%q): %v", domain, err)
		}
		if got := q.URL("avatars/x.jpg"); got != want {
			t.Errorf("URL with domain %q = %q, want %q", domain, got, want)
		}
	}
	if _, err := blob.NewQiniu(blob.QiniuConfig{Bucket: "b", Domain: "d"}, nil); err == nil ||
		!strings.Contains(err.Error(), "access key") || !strings.Contains(err.Error(), "secret key") {
		t.Errorf("NewQiniu without keys: err = %v", err)
	}
}
