package profile

// Avatar and album uploads. An image is checked (media.Processor.Check),
// counted against the upload limit, processed, and stored locally under a
// random key (served at /media/). With remote storage (Qiniu) a task then
// uploads it and switches the stored URL; replaced and deleted images are
// removed by another task.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strconv"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// MaxPhotos is the album size.
const MaxPhotos = 6

// Task types of this package.
const (
	TaskUploadMedia = "media:upload"
	TaskDeleteMedia = "media:delete"
)

// AlbumFullError is ErrAlbumFull with the album size (1012).
type AlbumFullError struct{ Max int }

func (e *AlbumFullError) Error() string {
	return fmt.Sprintf("profile: photo album is full (%d photos)", e.Max)
}

func (e *AlbumFullError) Unwrap() error { return ErrAlbumFull }

// Storage stores media objects by key (blob.Storage: local disk or Qiniu).
// Keys are server-generated, e.g. "avatars/3f2a…c1.jpg", and valid for
// model.CheckBlobKey.
type Storage interface {
	// Put stores data under key (overwriting) and returns the public URL.
	Put(ctx context.Context, key string, data []byte, contentType string) (url string, err error)
	// Get returns the stored bytes (model.ErrBlobNotFound: no such key).
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// URL returns the public URL of key without touching the store.
	URL(key string) string
}

// LocalStorage is the local media store (blob.Local), whose files are
// served at /media/.
type LocalStorage interface {
	Storage
	// ModTime is when key was last written.
	ModTime(ctx context.Context, key string) (time.Time, error)
}

// SetAvatar processes an uploaded image and makes it the avatar. The answer
// carries the locally served URL; with Qiniu the upload runs as a task.
func (s *Service) SetAvatar(ctx context.Context, id int64, r io.Reader) (string, error) {
	up, err := s.d.Media.Check(r)
	if err != nil {
		return "", err
	}
	if err := s.allowUpload(ctx, id); err != nil {
		return "", err
	}
	img, err := s.d.Media.Process(ctx, up)
	if err != nil {
		return "", err
	}
	key, url, err := s.putImage(ctx, "avatars", img.Ext, img.Data, img.ContentType)
	if err != nil {
		return "", err
	}
	old, err := s.d.Store.SetAvatar(ctx, id, url, key)
	if err != nil {
		s.deleteLater(ctx, key)
		if errors.Is(err, model.ErrNotFound) {
			return "", fmt.Errorf("%w: %d", ErrUserNotFound, id)
		}
		return "", err
	}
	s.invalidate(ctx, id, false)
	s.uploadLater(ctx, key, img.ContentType, img.Data)
	if old != "" {
		s.deleteLater(ctx, old)
	}
	return url, nil
}

// AddPhoto processes an uploaded image and appends it to the album.
func (s *Service) AddPhoto(ctx context.Context, id int64, r io.Reader) (Photo, error) {
	// API.md §1 order: a bad image is an input error and wins over a full
	// album (conflict), which wins over the upload limit. What can be told
	// without decoding is checked first; the store re-checks the album size
	// under a lock.
	up, err := s.d.Media.Check(r)
	if err != nil {
		return Photo{}, err
	}
	rec, err := s.record(ctx, id)
	if err != nil {
		return Photo{}, err
	}
	if len(rec.Photos) >= MaxPhotos {
		return Photo{}, &AlbumFullError{Max: MaxPhotos}
	}
	if err := s.allowUpload(ctx, id); err != nil {
		return Photo{}, err
	}
	img, err := s.d.Media.Process(ctx, up)
	if err != nil {
		return Photo{}, err
	}
	key, url, err := s.putImage(ctx, "photos", img.Ext, img.Data, img.ContentType)
	if err != nil {
		return Photo{}, err
	}
	p, err := s.d.Store.AddPhoto(ctx, model.Photo{UserID: id, URL: url, StorageKey: key, CreatedAt: s.d.Clock.Now()}, MaxPhotos)
	if err != nil {
		s.deleteLater(ctx, key)
		if errors.Is(err, model.ErrFull) {
			return Photo{}, &AlbumFullError{Max: MaxPhotos}
		}
		return Photo{}, err
	}
	s.invalidate(ctx, id, false)
	s.uploadLater(ctx, key, img.ContentType, img.Data)
	return Photo{ID: p.ID, URL: p.URL, Position: p.Position}, nil
}

// allowUpload counts an upload of user id against the upload limit (2008,
// avatar and photos together). It runs after the checks made before
// decoding and before the decode, the costly part: an image refused by
// those checks is not counted, every decode is.
func (s *Service) allowUpload(ctx context.Context, id int64) error {
	if s.d.Limiter == nil {
		return nil
	}
	return s.d.Limiter.Allow(ctx, s.d.UploadLimit, strconv.FormatInt(id, 10))
}

// DeletePhoto removes one of the owner's photos and renumbers the rest.
func (s *Service) DeletePhoto(ctx context.Context, id, photoID int64) error {
	p, err := s.d.Store.DeletePhoto(ctx, id, photoID)
	if errors.Is(err, model.ErrNotFound) {
		return ErrPhotoNotFound
	}
	if err != nil {
		return err
	}
	s.invalidate(ctx, id, false)
	s.deleteLater(ctx, p.StorageKey)
	return nil
}

// putImage stores an image locally under dir and a random name.
func (s *Service) putImage(ctx context.Context, dir, ext string, data []byte, contentType string) (key, url string, err error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("profile: random name: %w", err)
	}
	key = dir + "/" + hex.EncodeToString(b) + ext
	url, err = s.d.Local.Put(ctx, key, data, contentType)
	if err != nil {
		return "", "", fmt.Errorf("profile: store image: %w", err)
	}
	return key, url, nil
}

// uploadTask is the payload of TaskUploadMedia. The image travels in it:
// the task may run in another process (`swiper worker`), without the media
// dir.
type uploadTask struct {
	Key         string `json:"key"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// deleteTask is the payload of TaskDeleteMedia.
type deleteTask struct {
	Key string `json:"key"`
}

// enqueueUpload queues the remote upload of the image stored locally under
// key. The task id makes it unique while queued or retrying.
func (s *Service) enqueueUpload(ctx context.Context, key, contentType string, data []byte) error {
	payload, err := json.Marshal(uploadTask{Key: key, ContentType: contentType, Data: data})
	if err != nil {
		return fmt.Errorf("profile: upload task: %w", err)
	}
	return s.d.Queue.Enqueue(ctx, model.Task{Type: TaskUploadMedia, Payload: payload, ID: "upload:" + key, MaxRetry: 20, Timeout: time.Minute})
}

// uploadLater queues the remote upload of a stored image (Qiniu only). A
// failure to queue leaves the local URL in place, which keeps working (and
// RetryUploads queues it again later).
func (s *Service) uploadLater(ctx context.Context, key, contentType string, data []byte) {
	if s.d.Remote == nil {
		return
	}
	if err := s.enqueueUpload(ctx, key, contentType, data); err != nil {
		s.d.Log.ErrorContext(ctx, "queue media upload failed; the local copy stays in use", "key", key, "err", err)
	}
}

func (s *Service) deleteLater(ctx context.Context, key string) {
	payload, _ := json.Marshal(deleteTask{Key: key})
	if err := s.d.Queue.Enqueue(ctx, model.Task{Type: TaskDeleteMedia, Payload: payload, ID: "delete:" + key, MaxRetry: 10}); err != nil {
		s.d.Log.WarnContext(ctx, "queue media delete failed", "key", key, "err", err)
	}
}

// DeleteMedia removes the image files of keys that no row uses any more (a
// deleted account's avatar and album): the local files at once, the
// remote copies by a task with retries.
func (s *Service) DeleteMedia(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := s.d.Local.Delete(ctx, k); err != nil {
			s.d.Log.WarnContext(ctx, "local media not deleted", "key", k, "err", err)
		}
		if s.d.Remote != nil {
			s.deleteLater(ctx, k)
		}
	}
}

// RetryUploads queues again the remote upload of up to limit images that
// are still served locally although storage is remote, once their local
// file is older than olderThan: their upload was never queued (the queue
// was down) or its retries ran out. The task id is the upload path's, so
// an upload still queued or retrying is not duplicated. It returns how
// many images were pending and how many of them were queued.
func (s *Service) RetryUploads(ctx context.Context, olderThan time.Duration, limit int) (pending, queued int, err error) {
	if s.d.Remote == nil {
		return 0, 0, nil
	}
	// The URL of the empty key is the prefix of every local URL ("/media/").
	keys, err := s.d.Store.LocalMediaKeys(ctx, s.d.Local.URL(""), limit)
	if err != nil {
		return 0, 0, err
	}
	now := time.Now() // file times are the machine's, not the service clock's
	for _, key := range keys {
		mod, err := s.d.Local.ModTime(ctx, key)
		if err != nil || now.Sub(mod) < olderThan {
			continue // gone, or fresh (its upload is probably running)
		}
		data, err := s.d.Local.Get(ctx, key)
		if errors.Is(err, model.ErrBlobNotFound) {
			continue
		}
		if err != nil {
			return len(keys), queued, err
		}
		if err := s.enqueueUpload(ctx, key, mime.TypeByExtension(path.Ext(key)), data); err != nil {
			return len(keys), queued, err
		}
		queued++
	}
	return len(keys), queued, nil
}

// UploadHandler uploads an image to the remote storage and switches every
// row that uses it to the remote URL. Idempotent: a retry re-uploads the
// same bytes under the same key and re-applies the same URL.
func (s *Service) UploadHandler() model.TaskHandler {
	return func(ctx context.Context, payload []byte) error {
		var t uploadTask
		if err := json.Unmarshal(payload, &t); err != nil || model.CheckBlobKey(t.Key) != nil {
			return fmt.Errorf("profile: upload task: bad payload: %w", model.ErrSkipRetry)
		}
		inUse, err := s.d.Store.KeyInUse(ctx, t.Key)
		if err != nil {
			return err
		}
		if !inUse {
			return nil // replaced or deleted before the upload ran
		}
		url, err := s.d.Remote.Put(ctx, t.Key, t.Data, t.ContentType)
		if err != nil {
			return fmt.Errorf("profile: upload %s: %w", t.Key, err)
		}
		ids, err := s.d.Store.MediaURLChanged(ctx, t.Key, url)
		if err != nil {
			return err
		}
		for _, id := range ids {
			s.invalidate(ctx, id, false)
		}
		if err := s.d.Local.Delete(ctx, t.Key); err != nil {
			s.d.Log.WarnContext(ctx, "local copy not removed", "key", t.Key, "err", err)
		}
		return nil
	}
}

// DeleteHandler removes an image that no row uses any more, from both
// storages. Idempotent.
func (s *Service) DeleteHandler() model.TaskHandler {
	return func(ctx context.Context, payload []byte) error {
		var t deleteTask
		if err := json.Unmarshal(payload, &t); err != nil || model.CheckBlobKey(t.Key) != nil {
			return fmt.Errorf("profile: delete task: bad payload: %w", model.ErrSkipRetry)
		}
		inUse, err := s.d.Store.KeyInUse(ctx, t.Key)
		if err != nil {
			return err
		}
		if inUse {
			return nil
		}
		if err := s.d.Local.Delete(ctx, t.Key); err != nil {
			return err
		}
		if s.d.Remote != nil {
			if err := s.d.Remote.Delete(ctx, t.Key); err != nil {
				return err
			}
		}
		return nil
	}
}
