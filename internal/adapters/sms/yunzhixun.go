package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	phonenum "github.com/swiper-social/swiper/internal/domain/phone"
)

// DefaultYunzhixunURL is the ucpaas template SMS endpoint.
const DefaultYunzhixunURL = "https://open.ucpaas.com/ol/sms/sendsms"

// defaultTimeout bounds one provider call when no client is given.
const defaultTimeout = 10 * time.Second

// YunzhixunConfig holds the ucpaas account and template. URL defaults to
// DefaultYunzhixunURL.
type YunzhixunConfig struct {
	URL        string
	SID        string
	Token      string
	AppID      string
	TemplateID string
}

// Yunzhixun sends codes through the Yunzhixun (ucpaas) template SMS API.
type Yunzhixun struct {
	cfg    YunzhixunConfig
	client *http.Client
}

// NewYunzhixun returns a Yunzhixun sender. client may be nil: a client with
// a 10 s timeout is used then.
func NewYunzhixun(cfg YunzhixunConfig, client *http.Client) *Yunzhixun {
	if cfg.URL == "" {
		cfg.URL = DefaultYunzhixunURL
	}
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	return &Yunzhixun{cfg: cfg, client: client}
}

type yunzhixunRequest struct {
	SID        string `json:"sid"`
	Token      string `json:"token"`
	AppID      string `json:"appid"`
	TemplateID string `json:"templateid"`
	Param      string `json:"param"`
	Mobile     string `json:"mobile"`
	UID        string `json:"uid"`
}

type yunzhixunResponse struct {
	Code json.RawMessage `json:"code"` // a string ("000000"), tolerated as a number
	Msg  string          `json:"msg"`
}

// Send asks Yunzhixun to deliver code to phone (E.164). It succeeds only on
// HTTP 200 with provider code "000000". Errors never contain the code or
// the account token.
func (y *Yunzhixun) Send(ctx context.Context, phone, code string) error {
	mobile, err := yunzhixunMobile(phone)
	if err != nil {
		return err
	}
	body, err := json.Marshal(yunzhixunRequest{
		SID:        y.cfg.SID,
		Token:      y.cfg.Token,
		AppID:      y.cfg.AppID,
		TemplateID: y.cfg.TemplateID,
		Param:      code,
		Mobile:     mobile,
		UID:        "",
	})
	if err != nil {
		return fmt.Errorf("sms: yunzhixun: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, y.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: yunzhixun: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := y.client.Do(req)
	if err != nil {
		// *url.Error names the URL (no secret: they travel in the body).
		return fmt.Errorf("sms: yunzhixun: send to %s: %w", phonenum.Mask(phone), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("sms: yunzhixun: send to %s: read response: %w", phonenum.Mask(phone), err)
	}
	scrub := redactor(code, y.cfg.Token)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sms: yunzhixun: send to %s: HTTP %d: %s",
			phonenum.Mask(phone), resp.StatusCode, scrub.Replace(snippet(raw)))
	}
	var out yunzhixunResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("sms: yunzhixun: send to %s: decode response (HTTP 200): %s",
			phonenum.Mask(phone), scrub.Replace(snippet(raw)))
	}
	providerCode := strings.Trim(string(out.Code), `"`)
	if providerCode != "000000" {
		return fmt.Errorf("sms: yunzhixun: send to %s: provider code %s: %s",
			phonenum.Mask(phone), scrub.Replace(providerCode), scrub.Replace(out.Msg))
	}
	return nil
}

// yunzhixunMobile formats an E.164 phone as Yunzhixun wants it: the 11
// national digits for mainland China, "00" + country code + number otherwise.
func yunzhixunMobile(phone string) (string, error) {
	if !isE164(phone) {
		return "", fmt.Errorf("sms: yunzhixun: phone %q is not E.164", phonenum.Mask(phone))
	}
	if national, ok := strings.CutPrefix(phone, "+86"); ok {
		if len(national) != 11 {
			return "", fmt.Errorf("sms: yunzhixun: phone %s is not an 11-digit mainland number", phonenum.Mask(phone))
		}
		return national, nil
	}
	return "00" + phone[1:], nil
}

// redactor replaces every non-empty secret with "***".
func redactor(secrets ...string) *strings.Replacer {
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, "***")
		}
	}
	return strings.NewReplacer(pairs...)
}

// snippet shortens a response body for an error message.
func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

var _ Sender = (*Yunzhixun)(nil)
