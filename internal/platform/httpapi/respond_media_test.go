package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/swiper-social/swiper/internal/domain/media"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// The image and album messages name the limits the errors carry, not fixed
// numbers: a server configured otherwise says so.
func TestWriteErrorImageLimits(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   int
		want   string
	}{
		{&media.LimitError{Err: media.ErrTooLarge, Limit: 4 << 20}, 413, codeBadImage, "file over 4 MiB"},
		{&media.LimitError{Err: media.ErrTooLarge, Limit: 1500}, 413, codeBadImage, "file over 1500 bytes"},
		{&media.LimitError{Err: media.ErrTooManyPixels, Limit: 12_000_000, Value: 12_000_001}, 400, codeBadImage, "over 12 megapixels"},
		{&media.LimitError{Err: media.ErrTooManyPixels, Limit: 2_500_000, Value: 3_000_000}, 400, codeBadImage, "over 2.5 megapixels"},
		{&media.LimitError{Err: media.ErrTooManyPixels, Limit: 40_000_000}, 400, codeBadImage, "no pixels"},
		{fmt.Errorf("wrapped: %w", &media.LimitError{Err: media.ErrTooCostly, Limit: 64 << 20, Value: 100 << 20}), 400, codeBadImage, "over 64 MiB of memory"},
		{&profile.AlbumFullError{Max: 9}, 409, codeAlbumFull, "(9 photos)"},
		{fmt.Errorf("%w (context deadline exceeded)", media.ErrBusy), 503, codeUnavailable, "try again"},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range tests {
		w := httptest.NewRecorder()
		r := httptest.NewRequestWithContext(context.Background(), "PUT", "/api/v1/users/me/avatar", nil)
		writeError(w, r, log, tt.err)
		var env struct {
			Code int    `json:"code"`
			Data string `json:"data"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatalf("%v: body %s", tt.err, w.Body)
		}
		if w.Code != tt.status || env.Code != tt.code || !strings.Contains(env.Data, tt.want) {
			t.Errorf("%v: HTTP %d code %d %q, want HTTP %d code %d containing %q", tt.err, w.Code, env.Code, env.Data, tt.status, tt.code, tt.want)
		}
		if w.Code == 503 && w.Header().Get("Retry-After") == "" {
			t.Errorf("%v: 503 without Retry-After", tt.err)
		}
	}
}
