package qiniufake_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/blob/qiniufake"
)

const (
	ak     = "ak-1"
	sk     = "sk-1"
	bucket = "bkt"
)

func token(accessKey, secretKey, policy string) string {
	enc := base64.URLEncoding.EncodeToString([]byte(policy))
	h := hmac.New(sha1.New, []byte(secretKey))
	h.Write([]byte(enc))
	return accessKey + ":" + base64.URLEncoding.EncodeToString(h.Sum(nil)) + ":" + enc
}

func upload(t *testing.T, s *qiniufake.Server, tok, key string) int {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("token", tok)
	_ = mw.WriteField("key", key)
	fw, _ := mw.CreateFormFile("file", "f.jpg")
	_, _ = fw.Write([]byte("data"))
	_ = mw.Close()
	resp, err := s.Client().Post(s.URL+"/", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestUploadTokenVerification(t *testing.T) {
	future := time.Now().Add(time.Hour).Unix()
	past := time.Now().Add(-time.Minute).Unix()
	policy := func(scope string, deadline int64) string {
		return fmt.Sprintf(`{"scope":%q,"deadline":%d}`, scope, deadline)
	}
	tests := []struct {
		name  string
		token string
		key   string
		want  int
	}{
		{"valid scoped", token(ak, sk, policy(bucket+":a.jpg", future)), "a.jpg", 200},
		{"valid bucket scope", token(ak, sk, policy(bucket, future)), "b.jpg", 200},
		{"wrong secret", token(ak, "nope", policy(bucket+":a.jpg", future)), "a.jpg", 401},
		{"wrong access key", token("other", sk, policy(bucket+":a.jpg", future)), "a.jpg", 401},
		{"expired", token(ak, sk, policy(bucket+":a.jpg", past)), "a.jpg", 401},
		{"other bucket", token(ak, sk, policy("other:a.jpg", future)), "a.jpg", 401},
		{"key outside scope", token(ak, sk, policy(bucket+":a.jpg", future)), "evil.jpg", 403},
		{"garbage", "not-a-token", "a.jpg", 401},
		{"tampered policy", token(ak, sk, policy(bucket+":a.jpg", future))[:40] + "x" + token(ak, sk, policy(bucket+":a.jpg", future))[41:], "a.jpg", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := qiniufake.New(t, ak, sk, bucket)
			if got := upload(t, s, tt.token, tt.key); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			_, stored := s.Object(tt.key)
			if stored != (tt.want == 200) {
				t.Errorf("stored = %v after status %d", stored, tt.want)
			}
		})
	}
}

func TestBucketScopeCannotOverwrite(t *testing.T) {
	s := qiniufake.New(t, ak, sk, bucket)
	s.Put("a.jpg", []byte("old"), "image/jpeg")
	future := time.Now().Add(time.Hour).Unix()
	if got := upload(t, s, token(ak, sk, fmt.Sprintf(`{"scope":%q,"deadline":%d}`, bucket, future)), "a.jpg"); got != 614 {
		t.Errorf("insert-only overwrite: status %d, want 614", got)
	}
	if got := upload(t, s, token(ak, sk, fmt.Sprintf(`{"scope":%q,"deadline":%d}`, bucket+":a.jpg", future)), "a.jpg"); got != 200 {
		t.Errorf("scoped overwrite: status %d, want 200", got)
	}
}

func TestDeleteNeedsSignature(t *testing.T) {
	s := qiniufake.New(t, ak, sk, bucket)
	s.Put("a.jpg", []byte("x"), "image/jpeg")
	entry := base64.URLEncoding.EncodeToString([]byte(bucket + ":a.jpg"))
	for _, authz := range []string{"", "Qiniu " + ak + ":bogus", "QBox " + ak + ":bogus"} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/delete/"+entry, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("authorization %q: status %d, want 401", authz, resp.StatusCode)
		}
	}
	if _, ok := s.Object("a.jpg"); !ok {
		t.Error("object deleted without a valid signature")
	}
}

func TestDeleteWithValidQBoxSignature(t *testing.T) {
	s := qiniufake.New(t, ak, sk, bucket)
	s.Put("a.jpg", []byte("x"), "image/jpeg")
	path := "/delete/" + base64.URLEncoding.EncodeToString([]byte(bucket+":a.jpg"))
	h := hmac.New(sha1.New, []byte(sk))
	h.Write([]byte(path + "\n"))
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, nil)
	req.Header.Set("Authorization", "QBox "+ak+":"+base64.URLEncoding.EncodeToString(h.Sum(nil)))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if _, ok := s.Object("a.jpg"); ok {
		t.Error("object still there")
	}
}
