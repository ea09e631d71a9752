// Package config parses Swiper's environment once into a typed struct.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is everything the environment can set (API.md §4).
type Config struct {
	Addr           string
	DatabaseURL    string
	RedisURL       string
	SMSProvider    string
	Yunzhixun      Yunzhixun
	Storage        string
	MediaDir       string
	Qiniu          Qiniu
	Timezone       *time.Location
	OTPIPLimit     int
	FreeDailyLikes int
	TrustedProxies []netip.Prefix
	// ReportHideThreshold: open reports from this many different users
	// keep someone out of every deck (SWIPER_REPORT_HIDE_THRESHOLD [3]).
	ReportHideThreshold int

	// Operator knobs beyond API.md §4 (README "Configuration").
	SweepInterval    time.Duration // SWIPER_SWEEP_INTERVAL [1m]: periodic sweeps
	MediaRetryAfter  time.Duration // SWIPER_MEDIA_RETRY_AFTER [10m]: re-queue a Qiniu upload still pending
	SchedulerLockTTL time.Duration // SWIPER_SCHEDULER_LOCK_TTL [15s]: leader lock of the periodic scheduler
	DrainDelay       time.Duration // SWIPER_DRAIN_DELAY [2s]: lame-duck time before shutdown
	PprofAddr        string        // SWIPER_PPROF_ADDR [empty = off]: net/http/pprof on this address (keep it on loopback)
	UploadsPerHour   int           // SWIPER_UPLOADS_PER_HOUR [20]: avatar and photo uploads per user per hour (2008 beyond); 0 = no limit
	LocationsPerHour int           // SWIPER_LOCATIONS_PER_HOUR [10]: changes of location per user per hour (2008 beyond); 0 = no limit
	ViewsPer10Min    int           // SWIPER_VIEWS_PER_10MIN [300]: Cards (GET /users/{id}) per viewer per 10 minutes (2008 beyond); 0 = no limit
	SwipeCommitters  int           // SWIPER_SWIPE_COMMITTERS [0 = 1]: swipe transactions that may commit side by side in one replica
	RedisNamespace   string        // SWIPER_REDIS_NAMESPACE [empty]: prefix of every Redis key and name of the task queue (several deployments or test runs on one Redis)
}

// Yunzhixun holds the ucpaas SMS settings.
type Yunzhixun struct {
	URL, SID, Token, AppID, TemplateID string
}

// Qiniu holds the Kodo settings.
type Qiniu struct {
	AccessKey, SecretKey, Bucket, Domain, UpHost string
}

// Dialect names of DatabaseURL.
const (
	SQLite = "sqlite"
	MySQL  = "mysql"
)

// Load reads the configuration through getenv and validates it.
func Load(getenv func(string) string) (Config, error) {
	e := &envReader{getenv: getenv}
	c := Config{
		Addr:        e.str("SWIPER_ADDR", "localhost:8080"),
		DatabaseURL: e.str("SWIPER_DATABASE_URL", "sqlite://data/swiper.db"),
		RedisURL:    e.str("SWIPER_REDIS_URL", ""),
		SMSProvider: e.str("SWIPER_SMS_PROVIDER", "console"),
		Yunzhixun: Yunzhixun{
			URL:        e.str("SWIPER_YUNZHIXUN_URL", "https://open.ucpaas.com/ol/sms/sendsms"),
			SID:        e.str("SWIPER_YUNZHIXUN_SID", ""),
			Token:      e.str("SWIPER_YUNZHIXUN_TOKEN", ""),
			AppID:      e.str("SWIPER_YUNZHIXUN_APPID", ""),
			TemplateID: e.str("SWIPER_YUNZHIXUN_TEMPLATE_ID", ""),
		},
		Storage:  e.str("SWIPER_STORAGE", "local"),
		MediaDir: e.str("SWIPER_MEDIA_DIR", "data/media"),
		Qiniu: Qiniu{
			AccessKey: e.str("SWIPER_QINIU_ACCESS_KEY", ""),
			SecretKey: e.str("SWIPER_QINIU_SECRET_KEY", ""),
			Bucket:    e.str("SWIPER_QINIU_BUCKET", ""),
			Domain:    e.str("SWIPER_QINIU_DOMAIN", ""),
			UpHost:    e.str("SWIPER_QINIU_UP_HOST", ""),
		},
		OTPIPLimit:     e.count("SWIPER_OTP_IP_LIMIT", 30),
		FreeDailyLikes: e.count("SWIPER_FREE_DAILY_LIKES", 100),
	}
	c.SweepInterval = e.duration("SWIPER_SWEEP_INTERVAL", time.Minute)
	c.MediaRetryAfter = e.duration("SWIPER_MEDIA_RETRY_AFTER", 10*time.Minute)
	c.SchedulerLockTTL = e.duration("SWIPER_SCHEDULER_LOCK_TTL", 15*time.Second)
	c.DrainDelay = e.duration("SWIPER_DRAIN_DELAY", 2*time.Second)
	c.PprofAddr = e.str("SWIPER_PPROF_ADDR", "")
	c.UploadsPerHour = e.count("SWIPER_UPLOADS_PER_HOUR", 20)
	c.LocationsPerHour = e.count("SWIPER_LOCATIONS_PER_HOUR", 10)
	c.ViewsPer10Min = e.count("SWIPER_VIEWS_PER_10MIN", 300)
	c.ReportHideThreshold = e.count("SWIPER_REPORT_HIDE_THRESHOLD", 3)
	if c.ReportHideThreshold < 1 {
		e.errs = append(e.errs, errors.New("SWIPER_REPORT_HIDE_THRESHOLD must be at least 1"))
	}
	c.RedisNamespace = e.str("SWIPER_REDIS_NAMESPACE", "")
	c.SwipeCommitters = e.count("SWIPER_SWIPE_COMMITTERS", 0)
	if !validNamespace(c.RedisNamespace) {
		e.errs = append(e.errs, fmt.Errorf("SWIPER_REDIS_NAMESPACE: %q must be at most 32 of A-Z a-z 0-9 _ -", c.RedisNamespace))
	}
	if c.SweepInterval <= 0 || c.SchedulerLockTTL <= 0 {
		e.errs = append(e.errs, errors.New("SWIPER_SWEEP_INTERVAL and SWIPER_SCHEDULER_LOCK_TTL must be positive"))
	}
	c.Timezone = e.location("SWIPER_TIMEZONE", "Asia/Shanghai")
	c.TrustedProxies = e.prefixes("SWIPER_TRUSTED_PROXIES")
	if err := errors.Join(e.errs...); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// envReader reads variables through getenv for Load. A malformed value is
// recorded in errs and replaced by its default, so Load reports every bad
// variable at once rather than the first.
type envReader struct {
	getenv func(string) string
	errs   []error
}

// str is the trimmed variable name, or def when it is unset or blank.
func (e *envReader) str(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// count is the variable name as a non-negative integer.
func (e *envReader) count(name string, def int) int {
	s := e.str(name, strconv.Itoa(def))
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		e.errs = append(e.errs, fmt.Errorf("%s: %q is not a non-negative integer", name, s))
		return def
	}
	return n
}

// duration is the variable name as a non-negative time.ParseDuration value.
func (e *envReader) duration(name string, def time.Duration) time.Duration {
	s := e.str(name, def.String())
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		e.errs = append(e.errs, fmt.Errorf("%s: %q is not a duration such as 30s or 5m", name, s))
		return def
	}
	return d
}

// location is the time zone the variable name names; UTC when it names none.
func (e *envReader) location(name, def string) *time.Location {
	loc, err := time.LoadLocation(e.str(name, def))
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", name, err))
		return time.UTC
	}
	return loc
}

// prefixes is the comma-separated list of CIDRs and single addresses in the
// variable name, each as a masked prefix; nil when it is empty.
func (e *envReader) prefixes(name string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range strings.Split(e.str(name, ""), ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				e.errs = append(e.errs, fmt.Errorf("%s: %q is not a CIDR or address", name, s))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		ps = append(ps, p.Masked())
	}
	return ps
}

// Validate checks the cross-field rules.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := c.Database(); err != nil {
		errs = append(errs, err)
	}
	switch c.SMSProvider {
	case "console":
	case "yunzhixun":
		y := c.Yunzhixun
		if y.SID == "" || y.Token == "" || y.AppID == "" || y.TemplateID == "" {
			errs = append(errs, errors.New("SWIPER_SMS_PROVIDER=yunzhixun needs SWIPER_YUNZHIXUN_SID, _TOKEN, _APPID and _TEMPLATE_ID"))
		}
	default:
		errs = append(errs, fmt.Errorf("SWIPER_SMS_PROVIDER: %q is not console or yunzhixun", c.SMSProvider))
	}
	switch c.Storage {
	case "local":
	case "qiniu":
		q := c.Qiniu
		if q.AccessKey == "" || q.SecretKey == "" || q.Bucket == "" || q.Domain == "" {
			errs = append(errs, errors.New("SWIPER_STORAGE=qiniu needs SWIPER_QINIU_ACCESS_KEY, _SECRET_KEY, _BUCKET and _DOMAIN"))
		}
	default:
		errs = append(errs, fmt.Errorf("SWIPER_STORAGE: %q is not local or qiniu", c.Storage))
	}
	if c.RedisURL != "" {
		if _, err := ParseRedisURL(c.RedisURL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Database splits DatabaseURL into its dialect and the driver DSN.
func (c Config) Database() (dialect, dsn string, err error) {
	u := c.DatabaseURL
	switch {
	case strings.HasPrefix(u, "sqlite://"):
		path := strings.TrimPrefix(u, "sqlite://")
		if path == "" {
			return "", "", errors.New("SWIPER_DATABASE_URL: sqlite:// needs a file path")
		}
		return SQLite, path, nil
	case strings.HasPrefix(u, "mysql://"):
		dsn, err := mysqlDSN(strings.TrimPrefix(u, "mysql://"))
		if err != nil {
			return "", "", fmt.Errorf("SWIPER_DATABASE_URL: %w", err)
		}
		return MySQL, dsn, nil
	default:
		return "", "", errors.New("SWIPER_DATABASE_URL must start with sqlite:// or mysql://")
	}
}

// mysqlDSN turns "user:pass@host:3306/db?x=y" into a go-sql-driver DSN.
func mysqlDSN(rest string) (string, error) {
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return "", errors.New("mysql:// URL needs user@host:port/db")
	}
	userinfo, hostdb := rest[:at], rest[at+1:]
	slash := strings.Index(hostdb, "/")
	if slash < 0 || slash == len(hostdb)-1 {
		return "", errors.New("mysql:// URL needs a database name")
	}
	host, db := hostdb[:slash], hostdb[slash+1:]
	query := ""
	if q := strings.Index(db, "?"); q >= 0 {
		db, query = db[:q], db[q+1:]
	}
	if host == "" {
		host = "127.0.0.1:3306"
	}
	if !strings.Contains(host, ":") {
		host += ":3306"
	}
	params := "parseTime=true&loc=UTC&charset=utf8mb4&collation=utf8mb4_bin&timeout=3s&readTimeout=10s&writeTimeout=10s&interpolateParams=true"
	if query != "" {
		params += "&" + query
	}
	return fmt.Sprintf("%s@tcp(%s)/%s?%s", userinfo, host, db, params), nil
}

// validNamespace reports whether ns is fit for a Redis key prefix and an
// asynq queue name: at most 32 of A-Z a-z 0-9 _ -.
func validNamespace(ns string) bool {
	if len(ns) > 32 {
		return false
	}
	for _, c := range ns {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
