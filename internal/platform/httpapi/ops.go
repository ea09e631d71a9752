package httpapi

import (
	"context"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/swiper-social/swiper/internal/adapters/blob"
)

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 when every dependency answers within a second (each
// its own: the deck index waits for its load up to its end).
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var down []string
	for _, name := range slices.Sorted(maps.Keys(s.Ready)) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		if err := s.Ready[name].Ping(ctx); err != nil {
			s.Log.WarnContext(ctx, "readiness check failed", "dependency", name, "err", err)
			down = append(down, name)
		}
		cancel()
	}
	if len(down) > 0 {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("unavailable: " + strings.Join(down, ", ") + "\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (s *server) metrics() http.Handler {
	return promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{})
}

func (s *server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(s.OpenAPIJSON)
}

// mediaType is the Content-Type an extension is served with at /media/;
// "" for an extension that is not served.
func mediaType(ext string) string {
	switch ext {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	}
	return ""
}

// media serves uploaded images from the local media store: a path that is a
// valid storage key (blob.CheckKey) with an image extension and names a
// regular file, as that image type. Anything else — a directory, a
// temporary file, a name the file system refuses — is 404 (4000), never a
// listing and never a 500.
func (s *server) media() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/media/")
		ct := mediaType(path.Ext(key))
		if ct == "" || blob.CheckKey(key) != nil {
			fail(w, http.StatusNotFound, codeNoRoute, "no such file")
			return
		}
		f, err := s.Media.Open(key)
		if err != nil {
			fail(w, http.StatusNotFound, codeNoRoute, "no such file")
			return
		}
		defer f.Close()
		st, err := f.Stat()
		rs, seekable := f.(io.ReadSeeker)
		if err != nil || !st.Mode().IsRegular() || !seekable {
			fail(w, http.StatusNotFound, codeNoRoute, "no such file")
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		http.ServeContent(w, r, "", st.ModTime(), rs)
	})
}

// web serves the single-page client with a fallback to index.html for deep
// links; /api/ paths never reach it.
func (s *server) web() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Web == nil {
			fail(w, http.StatusNotFound, codeNoRoute, "no such route (the web client is not built in)")
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if st, err := fs.Stat(s.Web, name); err != nil || st.IsDir() {
			if path.Ext(name) != "" && !strings.HasSuffix(name, ".html") {
				// A missing asset is a real 404, not the app shell.
				http.Error(w, "not found", http.StatusNotFound)
				return
			}
			name = "index.html"
		}
		if name == "index.html" {
			w.Header().Set("Cache-Control", "no-cache")
		} else if strings.HasPrefix(name, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
		b, err := fs.ReadFile(s.Web, name)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		http.ServeContent(w, r, name, time.Time{}, strings.NewReader(string(b)))
	})
}
