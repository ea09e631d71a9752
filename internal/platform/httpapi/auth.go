package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/swiper-social/swiper/internal/domain/auth"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/phone"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

const cookieName = "swiper_session"

// parsePhone reads the phone field: 1000 when missing, 1002 when malformed.
func parsePhone(m map[string][]byte) (string, error) {
	raw, ok := m["phone"]
	if !ok || input.IsNull(raw) {
		return "", input.Missing("phone")
	}
	s, ok := input.String(raw)
	if !ok {
		return "", input.Invalid("phone", "must be a string")
	}
	if strings.TrimSpace(s) == "" {
		return "", input.Missing("phone")
	}
	e164, err := phone.Parse(s)
	if err != nil {
		return "", &input.Error{Code: codeBadPhone, Message: "phone number format invalid",
			Fields: map[string]string{"phone": "must be a mainland China mobile number or an E.164 number"}}
	}
	return e164, nil
}

func (s *server) requestCode(w http.ResponseWriter, r *http.Request) error {
	m, err := readFields(w, r)
	if err != nil {
		return err
	}
	e164, err := parsePhone(m)
	if err != nil {
		return err
	}
	sent, err := s.Auth.RequestCode(r.Context(), e164, clientIP(r, s.TrustedProxies))
	if err != nil {
		return err
	}
	ok(w, sent)
	return nil
}

type sessionAnswer struct {
	Token     string     `json:"token"`
	ExpiresAt time.Time  `json:"expires_at"`
	Created   bool       `json:"created"`
	User      profile.Me `json:"user"`
}

func (s *server) login(w http.ResponseWriter, r *http.Request) error {
	m, err := readFields(w, r)
	if err != nil {
		return err
	}
	var errs input.Errors
	var code string
	if raw, ok := m["code"]; !ok || input.IsNull(raw) {
		errs.Missing("code")
	} else if code, ok = input.String(raw); !ok {
		errs.Invalid("code", "must be a string of 6 digits")
	} else if code == "" {
		errs.Missing("code")
	}
	e164, perr := parsePhone(m)
	if perr != nil {
		return perr
	}
	if err := errs.Err("invalid login"); err != nil {
		return err
	}
	var me profile.Me
	var created bool
	sess, err := s.Auth.Login(r.Context(), e164, code, func(ctx context.Context, remembered int64, read [][]byte) (int64, error) {
		var err error
		me, created, err = s.Profile.LoginMe(ctx, e164, remembered, read)
		if errors.Is(err, profile.ErrSuspended) {
			return 0, fmt.Errorf("%w: %w", auth.ErrSuspended, err)
		}
		return me.ID, err
	})
	if err != nil {
		return err
	}
	s.Activity.Touch(sess.UserID)
	logAttrs(r, slog.Int64("user_id", sess.UserID), slog.Bool("created", created), slog.String("phone", phone.Mask(e164)))
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		MaxAge: int(auth.SessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: fromTLS(r, s.TrustedProxies)})
	ok(w, sessionAnswer{Token: sess.Token, ExpiresAt: sess.ExpiresAt.UTC(), Created: created, User: me})
	return nil
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) error {
	token, _ := sessionToken(r)
	if err := s.Auth.Logout(r.Context(), token); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: fromTLS(r, s.TrustedProxies)})
	ok(w, nil)
	return nil
}
