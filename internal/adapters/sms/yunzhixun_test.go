package sms_test

import (
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/sms"
)

const (
	testSID        = "sid-123"
	testToken      = "tok-secret-456"
	testAppID      = "app-789"
	testTemplateID = "tpl-42"
)

// fakeYunzhixun is an httptest stand-in for open.ucpaas.com. It checks every
// request strictly and answers with reply (default 000000).
type fakeYunzhixun struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	codes    map[string]string // mobile → last param
	requests []map[string]any
	reply    func(w http.ResponseWriter, r *http.Request)
}

func newFakeYunzhixun(t *testing.T) *fakeYunzhixun {
	f := &fakeYunzhixun{t: t, codes: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeYunzhixun) config() sms.YunzhixunConfig {
	return sms.YunzhixunConfig{
		URL: f.srv.URL + "/ol/sms/sendsms", SID: testSID, Token: testToken,
		AppID: testAppID, TemplateID: testTemplateID,
	}
}

func (f *fakeYunzhixun) setReply(h func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply = h
}

func (f *fakeYunzhixun) lastCode(mobile string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.codes[mobile]
}

func (f *fakeYunzhixun) lastRequest() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return nil
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeYunzhixun) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(format string, args ...any) {
		f.t.Errorf("fake yunzhixun: "+format, args...)
		http.Error(w, "bad request", http.StatusBadRequest)
	}
	if r.Method != http.MethodPost {
		fail("method %s, want POST", r.Method)
		return
	}
	if r.URL.Path != "/ol/sms/sendsms" {
		fail("path %s", r.URL.Path)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		fail("content type %q, want application/json", r.Header.Get("Content-Type"))
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fail("body is not JSON: %v", err)
		return
	}
	want := map[string]any{"sid": testSID, "token": testToken, "appid": testAppID, "templateid": testTemplateID, "uid": ""}
	for k, v := range want {
		if body[k] != v {
			fail("field %s = %#v, want %#v", k, body[k], v)
			return
		}
	}
	mobile, _ := body["mobile"].(string)
	param, _ := body["param"].(string)
	if mobile == "" || param == "" {
		fail("mobile %#v / param %#v missing or not strings", body["mobile"], body["param"])
		return
	}
	if len(body) != 7 {
		fail("body has %d fields, want 7: %v", len(body), body)
		return
	}

	f.mu.Lock()
	f.requests = append(f.requests, body)
	reply := f.reply
	if reply == nil {
		f.codes[mobile] = param
	}
	f.mu.Unlock()

	if reply != nil {
		reply(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"code": "000000", "count": "1", "create_date": "2024-01-01 00:00:00",
		"mobile": mobile, "msg": "OK", "smsid": "abc", "uid": "",
	})
}

// wantMobile is the spec's mobile format, written independently of the code
// under test: 11 digits for +86, "00" + E.164 digits otherwise.
func wantMobile(phone string) string {
	if national, ok := strings.CutPrefix(phone, "+86"); ok {
		return national
	}
	return "00" + strings.TrimPrefix(phone, "+")
}

func TestYunzhixunRequest(t *testing.T) {
	tests := []struct{ phone, mobile string }{
		{"+8613812345678", "13812345678"},
		{"+14155550123", "0014155550123"},
		{"+852912345678", "00852912345678"},
	}
	for _, tt := range tests {
		t.Run(tt.phone, func(t *testing.T) {
			fake := newFakeYunzhixun(t)
			y := sms.NewYunzhixun(fake.config(), fake.srv.Client())
			if err := y.Send(t.Context(), tt.phone, "482913"); err != nil {
				t.Fatalf("Send: %v", err)
			}
			req := fake.lastRequest()
			if req == nil {
				t.Fatal("fake received no valid request")
			}
			if req["mobile"] != tt.mobile {
				t.Errorf("mobile = %v, want %s", req["mobile"], tt.mobile)
			}
			if req["param"] != "482913" {
				t.Errorf("param = %v, want 482913", req["param"])
			}
		})
	}
}

func TestYunzhixunFailures(t *testing.T) {
	const code = "482913"
	tests := []struct {
		name      string
		reply     func(w http.ResponseWriter, r *http.Request)
		wantInErr []string
	}{
		{
			name: "provider error code",
			reply: func(w http.ResponseWriter, r *http.Request) {
				// A provider echoing the request back must not leak it through us.
				_, _ = w.Write([]byte(`{"code":"100015","msg":"号码不合法 param=482913 token=tok-secret-456"}`))
			},
			wantInErr: []string{"100015", "号码不合法"},
		},
		{
			name: "numeric provider code",
			reply: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"code":105147,"msg":"too often"}`))
			},
			wantInErr: []string{"105147", "too often"},
		},
		{
			name: "HTTP 500",
			reply: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "internal error for 482913", http.StatusInternalServerError)
			},
			wantInErr: []string{"500"},
		},
		{
			name:      "200 but not JSON",
			reply:     func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>gateway</html>")) },
			wantInErr: []string{"decode"},
		},
		{
			name:      "200 without code",
			reply:     func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"msg":"?"}`)) },
			wantInErr: []string{"provider code"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeYunzhixun(t)
			fake.setReply(tt.reply)
			y := sms.NewYunzhixun(fake.config(), fake.srv.Client())
			err := y.Send(t.Context(), "+8613812345678", code)
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			msg := err.Error()
			for _, s := range tt.wantInErr {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			for _, secret := range []string{code, testToken, "13812345678"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q leaks %q", msg, secret)
				}
			}
		})
	}
}

func TestYunzhixunTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	client := srv.Client()
	client.Timeout = 100 * time.Millisecond
	y := sms.NewYunzhixun(sms.YunzhixunConfig{URL: srv.URL, Token: testToken}, client)

	start := time.Now()
	err := y.Send(t.Context(), "+8613812345678", "482913")
	if err == nil {
		t.Fatal("Send to a hanging server succeeded")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send took %v, want about the 100ms timeout", elapsed)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("error %v is not a timeout", err)
	}
	if strings.Contains(err.Error(), "482913") || strings.Contains(err.Error(), testToken) {
		t.Errorf("error %q leaks a secret", err)
	}
}

func TestYunzhixunRejectsBadPhones(t *testing.T) {
	fake := newFakeYunzhixun(t)
	y := sms.NewYunzhixun(fake.config(), fake.srv.Client())
	for _, phone := range []string{"", "13812345678", "+86 138 1234 5678", "+861381234567", "+12"} {
		if err := y.Send(t.Context(), phone, "482913"); err == nil {
			t.Errorf("Send(%q) succeeded, want an error", phone)
		}
	}
	if fake.lastRequest() != nil {
		t.Error("a bad phone reached the provider")
	}
}
