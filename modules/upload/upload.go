// Package upload implements HTTP File Upload (XEP-0363). Each server
// domain has an upload service (upload.service in the configuration,
// such as upload.example.com) that hands out slots to the domain's
// accounts. The server's HTTP listener (http.listen) takes each file
// with one PUT and serves it with GET.
//
// A slot's GET URL is <base>/upload/<id>/<filename>, where id is 128
// random bits. Its PUT URL adds "?token=<HMAC-SHA256 of the id>", so that
// recipients of the GET URL cannot upload to it. Slots wait in memory
// for slotTimeout. Files are stored in upload.directory as <id>, each
// with its metadata in <id>.json, and are deleted when upload.expiry has
// passed.
package upload

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"tern/config"
	"tern/modules"
	"tern/router"
)

// NS is the namespace of XEP-0363 version 0.3 and later.
const NS = "urn:xmpp:http:upload:0"

// slotTimeout is how long a slot can be used for its PUT.
const slotTimeout = 5 * time.Minute

// httpPrefix is the path under which the files are served.
const httpPrefix = "/upload/"

const serviceItemName = "HTTP File Upload"

func init() {
	modules.Register(modules.Module{Name: "upload", Order: 60, New: start})
}

// module holds what every service of the module shares.
type module struct {
	host   router.Host
	cfg    config.Upload
	http   modules.HTTPMux
	listen string // http.listen as configured
	store  *store
	signer signer
	log    *slog.Logger
	now    func() time.Time
}

// start opens the storage directory, creates one service per server
// domain, mounts the HTTP handlers and starts the expiry of files.
func start(env *modules.Env) error {
	cfg := env.Config.Upload
	log := env.Host.Logger("upload")
	if !cfg.Enabled {
		return nil
	}
	if env.HTTP == nil {
		log.Warn("HTTP File Upload is off because http.listen is empty; set http.listen, or upload.enabled = false to silence this")
		return nil
	}
	st, err := openStore(env.Config.Path(cfg.Directory), log)
	if err != nil {
		return err
	}

	m := &module{
		host:   env.Host,
		cfg:    cfg,
		http:   env.HTTP,
		listen: env.Config.HTTP.Listen,
		store:  st,
		signer: newSigner(),
		log:    log,
		now:    time.Now,
	}

	for _, d := range env.Host.Domains() {
		domain := cfg.ServiceDomain(d)
		if domain == "" {
			return fmt.Errorf("upload.service %q gives no valid domain for %s", cfg.Service, d)
		}
		if !env.Host.AddComponent(domain, &service{mod: m, domain: domain, serverDomain: d}) {
			return fmt.Errorf("upload service domain %s is already served", domain)
		}
		env.Host.AddItem(domain, serviceItemName)
	}

	m.mountHTTP(env.HTTP)
	stop := m.startExpiry()
	env.Host.OnStop(func(context.Context) { stop() })
	return nil
}

// startExpiry deletes expired files now and then periodically, until
// the returned function is called.
func (m *module) startExpiry() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	interval := cleanupInterval(m.cfg.Expiry)
	go func() {
		defer close(finished)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			if n := m.store.removeExpired(m.now()); n > 0 {
				m.log.Info("deleted expired uploads", "count", n)
			}
			select {
			case <-done:
				return
			case <-ticker.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// cleanupInterval returns how often expired files are looked for: hourly,
// or more often for an expiry under two hours, so that a file outlives
// its expiry by at most half of it. With no expiry only pending slots
// are pruned.
func cleanupInterval(expiry time.Duration) time.Duration {
	interval := time.Hour
	if expiry > 0 && expiry/2 < interval {
		interval = max(expiry/2, time.Second)
	}
	return interval
}

// baseURL returns the scheme, host and path prefix of the URLs of the
// service of serverDomain, without a trailing "/".
func (m *module) baseURL(serverDomain string) string {
	if m.cfg.PublicURL != "" {
		return strings.TrimSuffix(m.cfg.PublicURL, "/")
	}
	return defaultBaseURL(m.listen, m.http.HTTPAddr(), serverDomain)
}

// defaultBaseURL derives the base URL from the HTTP listener: its
// configured host, or serverDomain when it listens on every address, and
// its bound port. The listener serves plain HTTP.
func defaultBaseURL(listen string, bound net.Addr, serverDomain string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host = ""
	}
	if bound != nil {
		if _, p, err := net.SplitHostPort(bound.String()); err == nil {
			port = p
		}
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = serverDomain
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
	return u.String()
}
