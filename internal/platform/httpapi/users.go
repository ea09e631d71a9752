package httpapi

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/media"
	"github.com/swiper-social/swiper/internal/domain/vip"
)

// meKeys are what GET /users/me reads with the session: the user's cached
// record when the caches live in the session store.
func (s *server) meKeys() func(uid int64) []string {
	if !s.MeWithSession {
		return nil
	}
	return s.Profile.RecordKeys
}

func (s *server) getMe(w http.ResponseWriter, r *http.Request, read [][]byte) error {
	me, err := s.Profile.MeRead(r.Context(), userID(r), read)
	if err != nil {
		return err
	}
	ok(w, me)
	return nil
}

func (s *server) patchMe(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	me, err := s.Profile.UpdateMe(r.Context(), userID(r), body)
	if err != nil {
		return err
	}
	ok(w, me)
	return nil
}

func (s *server) getProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Profile.Profile(r.Context(), userID(r))
	if err != nil {
		return err
	}
	ok(w, p)
	return nil
}

func (s *server) patchProfile(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSON(w, r)
	if err != nil {
		return err
	}
	p, err := s.Profile.UpdateProfile(r.Context(), userID(r), body)
	if err != nil {
		return err
	}
	ok(w, p)
	return nil
}

// filePart returns the reader of the multipart file field, streaming: the
// image is never buffered beyond the file size media's Check enforces. The
// whole body is capped at 9 MiB (4002 beyond).
func filePart(w http.ResponseWriter, r *http.Request, field string) (io.Reader, func(), error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil, input.Invalid("body", "Content-Type must be multipart/form-data")
	}
	if r.ContentLength > multipartBodySize {
		return nil, nil, errTooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, multipartBodySize)
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, errTooLarge
		}
		if err == io.EOF {
			return nil, nil, input.Missing(field)
		}
		if err != nil {
			return nil, nil, input.Invalid("body", "malformed multipart body")
		}
		if p.FormName() == field {
			return tooLargeReader{p}, func() { p.Close() }, nil
		}
		p.Close()
	}
}

// tooLargeReader turns the body limit into errTooLarge wherever it trips.
type tooLargeReader struct{ r io.Reader }

func (t tooLargeReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return n, errTooLarge
	}
	return n, err
}

// uploadErr turns an image that is over the file limit into 4002 when the
// whole body is also over the multipart limit (a streamed body whose size
// was not announced): 4002 comes before input errors in API.md §1.
func uploadErr(r *http.Request, err error) error {
	if errors.Is(err, media.ErrTooLarge) {
		_, derr := io.Copy(io.Discard, r.Body)
		var mbe *http.MaxBytesError
		if errors.As(derr, &mbe) {
			return errTooLarge
		}
	}
	return err
}

func (s *server) putAvatar(w http.ResponseWriter, r *http.Request) error {
	f, done, err := filePart(w, r, "avatar")
	if err != nil {
		return err
	}
	defer done()
	url, err := s.Profile.SetAvatar(r.Context(), userID(r), f)
	if err != nil {
		return uploadErr(r, err)
	}
	ok(w, map[string]string{"avatar": url})
	return nil
}

func (s *server) addPhoto(w http.ResponseWriter, r *http.Request) error {
	f, done, err := filePart(w, r, "photo")
	if err != nil {
		return err
	}
	defer done()
	p, err := s.Profile.AddPhoto(r.Context(), userID(r), f)
	if err != nil {
		return uploadErr(r, err)
	}
	ok(w, p)
	return nil
}

func (s *server) deletePhoto(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Profile.DeletePhoto(r.Context(), userID(r), id); err != nil {
		return err
	}
	ok(w, nil)
	return nil
}

func (s *server) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.Profile.Card(r.Context(), userID(r), id)
	if err != nil {
		return err
	}
	// Counted once the user is known: 1003 comes before 2008 (API.md §1).
	if err := s.Profile.AllowView(r.Context(), userID(r)); err != nil {
		return err
	}
	ok(w, c)
	return nil
}

func (s *server) getVIP(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Profile.VipStatus(r.Context(), userID(r))
	if err != nil {
		return err
	}
	ok(w, st)
	return nil
}

func (s *server) getPlans(w http.ResponseWriter, r *http.Request) error {
	ok(w, vip.Plans())
	return nil
}
