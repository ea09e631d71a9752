// Package qiniufake is an in-memory stand-in for Qiniu Kodo, for tests. One
// httptest server plays the upload host (form upload), the rs host (delete)
// and the bucket's public domain (download), and checks credentials the way
// Kodo does:
//
//   - upload tokens: AccessKey:base64url(HMAC-SHA1(SecretKey, encodedPolicy)):encodedPolicy,
//     the policy's scope must name the bucket (optionally ":key", which then
//     must match the uploaded key and allows overwriting) and its deadline
//     must be in the future; a bad token answers 401;
//   - management requests: "Qiniu " (v2) or "QBox " (v1) authorization,
//     HMAC-SHA1 of the signing string with SecretKey; bad ones answer 401.
package qiniufake

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/blob"
)

// Object is one stored object.
type Object struct {
	Data        []byte
	ContentType string
}

// Server is a fake Kodo bucket. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the fake, usable as upload host, rs host and
	// bucket domain at once.
	URL string

	accessKey, secretKy string
	bucket              string
	srv                 *httptest.Server

	mu          sync.Mutex
	objects     map[string]Object
	failUploads int
	uploads     int
	deletes     int
	rejected    int
}

// New starts a fake bucket that accepts the given credentials; it stops at
// the end of the test.
func New(t testing.TB, accessKey, secretKey, bucket string) *Server {
	t.Helper()
	s := &Server{
		accessKey: accessKey, secretKy: secretKey, bucket: bucket,
		objects: make(map[string]Object),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", s.upload)
	mux.HandleFunc("POST /delete/{entry}", s.delete)
	mux.HandleFunc("GET /{key...}", s.download)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Kodo tags every answer with a request id; the SDK treats an
		// answer without one as hijacked.
		w.Header().Set("X-Reqid", "fake-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		mux.ServeHTTP(w, r)
	}))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Config returns a blob.QiniuConfig pointing every host at the fake.
func (s *Server) Config() blob.QiniuConfig {
	return blob.QiniuConfig{
		AccessKey: s.accessKey, SecretKey: s.secretKy, Bucket: s.bucket,
		Domain: s.URL, UpHost: s.URL, RsHost: s.URL,
	}
}

// Client returns an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Object returns the object stored under key.
func (s *Server) Object(key string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if ok {
		o.Data = slices.Clone(o.Data)
	}
	return o, ok
}

// Put stores an object directly, bypassing the API (test setup).
func (s *Server) Put(key string, data []byte, contentType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = Object{Data: slices.Clone(data), ContentType: contentType}
}

// FailUploads makes the next n uploads answer 503 (to test retries).
func (s *Server) FailUploads(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failUploads = n
}

// Stats returns how many uploads and deletes succeeded and how many
// requests were rejected for bad credentials.
func (s *Server) Stats() (uploads, deletes, rejected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uploads, s.deletes, s.rejected
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (s *Server) reject(w http.ResponseWriter, msg string) {
	s.mu.Lock()
	s.rejected++
	s.mu.Unlock()
	writeError(w, http.StatusUnauthorized, msg)
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "bad multipart: "+err.Error())
		return
	}
	token := r.FormValue("token")
	key, hasKey := r.MultipartForm.Value["key"]
	if token == "" {
		s.reject(w, "token not specified")
		return
	}
	if !hasKey || len(key) != 1 {
		writeError(w, http.StatusBadRequest, "key not specified")
		return
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		writeError(w, http.StatusBadRequest, "file not specified")
		return
	}
	data, err := io.ReadAll(f)
	_ = f.Close()
	if err != nil {
		writeError(w, http.StatusBadRequest, "read file: "+err.Error())
		return
	}
	if c := r.FormValue("crc32"); c != "" {
		if want, err := strconv.ParseUint(c, 10, 32); err != nil || uint32(want) != crc32.ChecksumIEEE(data) {
			writeError(w, 406, "crc32 not match") // Kodo's status for a bad checksum
			return
		}
	}

	scopeKey, scoped, msg := s.checkUploadToken(token)
	if msg != "" {
		s.reject(w, msg)
		return
	}
	if scoped && scopeKey != key[0] {
		writeError(w, http.StatusForbidden, "key doesn't match with scope")
		return
	}

	s.mu.Lock()
	if s.failUploads > 0 {
		s.failUploads--
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "service unavailable (injected)")
		return
	}
	if _, exists := s.objects[key[0]]; exists && !scoped {
		s.mu.Unlock()
		writeError(w, 614, "file exists") // a bucket-only scope may not overwrite
		return
	}
	ct := fh.Header.Get("Content-Type")
	if ct == "" || ct == "application/octet-stream" {
		ct = http.DetectContentType(data)
	}
	s.objects[key[0]] = Object{Data: data, ContentType: ct}
	s.uploads++
	s.mu.Unlock()

	sum := md5.Sum(data)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"hash": hex.EncodeToString(sum[:]), "key": key[0]})
}

// checkUploadToken verifies token and returns the key it is limited to (if
// scoped) or a rejection message.
func (s *Server) checkUploadToken(token string) (key string, scoped bool, reject string) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return "", false, "bad token"
	}
	ak, sign, encodedPolicy := parts[0], parts[1], parts[2]
	if ak != s.accessKey {
		return "", false, "bad token: unknown access key"
	}
	if !hmac.Equal([]byte(sign), []byte(s.sign([]byte(encodedPolicy)))) {
		return "", false, "bad token: signature mismatch"
	}
	raw, err := base64.URLEncoding.DecodeString(encodedPolicy)
	if err != nil {
		if raw, err = base64.RawURLEncoding.DecodeString(encodedPolicy); err != nil {
			return "", false, "bad token: policy is not base64url"
		}
	}
	var policy struct {
		Scope    string `json:"scope"`
		Deadline int64  `json:"deadline"`
	}
	if err := json.Unmarshal(raw, &policy); err != nil {
		return "", false, "bad token: policy is not JSON"
	}
	if policy.Deadline <= time.Now().Unix() {
		return "", false, "expired token"
	}
	bucket, key, scoped := strings.Cut(policy.Scope, ":")
	if bucket != s.bucket {
		return "", false, fmt.Sprintf("bad token: scope %q is not bucket %q", policy.Scope, s.bucket)
	}
	return key, scoped, ""
}

func (s *Server) sign(data []byte) string {
	h := hmac.New(sha1.New, []byte(s.secretKy))
	h.Write(data)
	return base64.URLEncoding.EncodeToString(h.Sum(nil))
}

// checkManagementAuth verifies a "Qiniu ak:sign" (v2) or "QBox ak:sign"
// (v1) authorization of r, whose body is body.
func (s *Server) checkManagementAuth(r *http.Request, body []byte) bool {
	authz := r.Header.Get("Authorization")
	ct := r.Header.Get("Content-Type")
	pathQuery := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		pathQuery += "?" + r.URL.RawQuery
	}
	var signing, cred string
	switch {
	case strings.HasPrefix(authz, "Qiniu "):
		cred = strings.TrimPrefix(authz, "Qiniu ")
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\nHost: %s\n", r.Method, pathQuery, r.Host)
		if ct == "" {
			ct = "application/x-www-form-urlencoded"
		}
		fmt.Fprintf(&b, "Content-Type: %s\n", ct)
		var xq []string
		for name, vals := range r.Header {
			name = textproto.CanonicalMIMEHeaderKey(name)
			if len(name) > len("X-Qiniu-") && strings.HasPrefix(name, "X-Qiniu-") {
				xq = append(xq, name+": "+vals[0])
			}
		}
		sort.Strings(xq)
		for _, h := range xq {
			b.WriteString(h + "\n")
		}
		b.WriteString("\n")
		if mt, _, _ := mime.ParseMediaType(ct); mt == "application/x-www-form-urlencoded" || mt == "application/json" {
			b.Write(body)
		}
		signing = b.String()
	case strings.HasPrefix(authz, "QBox "):
		cred = strings.TrimPrefix(authz, "QBox ")
		signing = pathQuery + "\n"
		if ct == "application/x-www-form-urlencoded" {
			signing += string(body)
		}
	default:
		return false
	}
	ak, sign, ok := strings.Cut(cred, ":")
	return ok && ak == s.accessKey && hmac.Equal([]byte(sign), []byte(s.sign([]byte(signing))))
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if !s.checkManagementAuth(r, body) {
		s.reject(w, "bad token")
		return
	}
	entry, err := base64.URLEncoding.DecodeString(r.PathValue("entry"))
	if err != nil {
		if entry, err = base64.RawURLEncoding.DecodeString(r.PathValue("entry")); err != nil {
			writeError(w, http.StatusBadRequest, "invalid entry")
			return
		}
	}
	bucket, key, _ := strings.Cut(string(entry), ":")
	if bucket != s.bucket {
		writeError(w, 631, "no such bucket")
		return
	}
	s.mu.Lock()
	_, ok := s.objects[key]
	delete(s.objects, key)
	if ok {
		s.deletes++
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, 612, "no such file or directory")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.mu.Lock()
	o, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Document not found")
		return
	}
	w.Header().Set("Content-Type", o.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(o.Data)))
	_, _ = w.Write(o.Data)
}
