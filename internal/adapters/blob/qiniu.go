package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/qiniu/go-sdk/v7/auth"
	qclient "github.com/qiniu/go-sdk/v7/client"
	"github.com/qiniu/go-sdk/v7/storage"
	httpclient "github.com/qiniu/go-sdk/v7/storagev2/http_client"
	"github.com/qiniu/go-sdk/v7/storagev2/objects"
	"github.com/qiniu/go-sdk/v7/storagev2/region"

	"github.com/swiper-social/swiper/internal/platform/backend"
)

// Qiniu upload tokens live this long; an upload starts right after the
// token is made, so an hour is plenty.
const qiniuTokenTTL = time.Hour

// qiniuNoSuchFile is Kodo's status for a missing object.
const qiniuNoSuchFile = 612

// QiniuConfig configures Qiniu Kodo storage. The bucket must be public:
// URL(key) is Domain + "/" + key and Get downloads that URL.
type QiniuConfig struct {
	AccessKey string
	SecretKey string
	Bucket    string
	// Domain serves the bucket, e.g. "cdn.example.com" (https:// is then
	// assumed) or "http://127.0.0.1:9000".
	Domain string
	// UpHost overrides the upload host (e.g. "https://up-z2.qiniup.com",
	// or a fake's URL in tests). Empty: the SDK looks up the bucket's region.
	UpHost string
	// RsHost overrides the management (rs) host used by Delete. Empty: the
	// SDK looks up the bucket's region.
	RsHost string
}

// Qiniu stores objects in a Qiniu Kodo bucket through the official SDK:
// form upload with a per-key upload token, deletion through the rs API,
// reads by plain HTTP GET of the public URL.
type Qiniu struct {
	cfg      QiniuConfig
	mac      *auth.Credentials
	http     *http.Client
	uploader *storage.FormUploader
	objects  *objects.ObjectsManager
	domain   string // with scheme, no trailing slash
}

// NewQiniu checks cfg and builds the SDK clients. client carries every
// request (upload, delete, download); nil means a client with a 30 s timeout.
func NewQiniu(cfg QiniuConfig, client *http.Client) (*Qiniu, error) {
	var missing []string
	for name, v := range map[string]string{
		"access key": cfg.AccessKey, "secret key": cfg.SecretKey,
		"bucket": cfg.Bucket, "domain": cfg.Domain,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("blob: qiniu: missing %s", strings.Join(missing, ", "))
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	domain := strings.TrimRight(cfg.Domain, "/")
	if !strings.Contains(domain, "://") {
		domain = "https://" + domain
	}
	mac := auth.New(cfg.AccessKey, cfg.SecretKey)

	uploader := storage.NewFormUploaderEx(&storage.Config{
		UseHTTPS: true, // for hosts given without a scheme
		UpHost:   cfg.UpHost,
	}, &qclient.Client{Client: client})

	opts := httpclient.Options{
		BasicHTTPClient: client,
		Credentials:     mac,
	}
	if cfg.RsHost != "" {
		opts.Regions = &region.Region{Rs: region.Endpoints{Preferred: []string{cfg.RsHost}}}
	}
	return &Qiniu{
		cfg:      cfg,
		mac:      mac,
		http:     client,
		uploader: uploader,
		objects:  objects.NewObjectsManager(&objects.ObjectsManagerOptions{Options: opts}),
		domain:   domain,
	}, nil
}

// UploadToken returns an upload token that allows writing (and
// overwriting) exactly key in the bucket for ttl.
func (q *Qiniu) UploadToken(key string, ttl time.Duration) string {
	policy := storage.PutPolicy{
		Scope:   q.cfg.Bucket + ":" + key, // "bucket:key" allows overwriting key
		Expires: uint64(ttl / time.Second),
	}
	return policy.UploadToken(q.mac)
}

// Put form-uploads data under key (overwriting) and returns its URL.
func (q *Qiniu) Put(ctx context.Context, key string, data []byte, contentType string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	var ret storage.PutRet
	err := q.uploader.Put(ctx, &ret, q.UploadToken(key, qiniuTokenTTL), key,
		bytes.NewReader(data), int64(len(data)), &storage.PutExtra{MimeType: contentType})
	if err != nil {
		return "", fmt.Errorf("blob: qiniu: put %s: %w", key, backend.Classify(err))
	}
	if ret.Key != "" && ret.Key != key {
		return "", fmt.Errorf("blob: qiniu: put %s: stored as %q", key, ret.Key)
	}
	return q.URL(key), nil
}

// Get downloads URL(key); ErrNotFound on 404.
func (q *Qiniu) Get(ctx context.Context, key string) ([]byte, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.URL(key), nil)
	if err != nil {
		return nil, fmt.Errorf("blob: qiniu: get %s: %w", key, err)
	}
	resp, err := q.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("blob: qiniu: get %s: %w", key, backend.Classify(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("blob: qiniu: get %s: %w", key, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("blob: qiniu: get %s: HTTP %d", key, resp.StatusCode)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("blob: qiniu: get %s: read: %w", key, backend.Classify(err))
	}
	return data, nil
}

// Delete removes key through the rs API; a missing key (612) is not an error.
func (q *Qiniu) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	err := q.objects.Bucket(q.cfg.Bucket).Object(key).Delete().Call(ctx)
	if err == nil {
		return nil
	}
	var info *qclient.ErrorInfo
	if errors.As(err, &info) && info.Code == qiniuNoSuchFile {
		return nil
	}
	return fmt.Errorf("blob: qiniu: delete %s: %w", key, backend.Classify(err))
}

// URL returns Domain + "/" + key.
func (q *Qiniu) URL(key string) string { return joinURL(q.domain, key) }

var _ Storage = (*Qiniu)(nil)
