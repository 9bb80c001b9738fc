// Package c2s serves client-to-server streams (RFC 6120): TCP with
// STARTTLS, direct TLS (XEP-0368) and WebSocket (RFC 7395). A connection
// negotiates TLS, authenticates with SASL, binds a resource, and then runs
// as a router.Session.
package c2s

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"tern/config"
	"tern/internal/netserve"
	"tern/router"
	"tern/stanza"
	"tern/storage"
	"tern/stream"
)

// NonzaHandler handles a stream-level element (not a stanza) that a bound
// session sent, such as <active/> of client state indication. A returned
// *stream.Error ends the stream.
type NonzaHandler func(ctx context.Context, s router.Session, el *stanza.Stanza) error

// HandleNonza registers h for stream-level elements in namespace ns. It
// must be called before Serve.
func (s *Server) HandleNonza(ns string, h NonzaHandler) { s.nonzas[ns] = h }

// Certificates chooses the TLS configuration and certificate per domain.
type Certificates interface {
	TLSConfig(minVersion uint16) *tls.Config
	Certificate(domain string) *tls.Certificate
}

// Server accepts client connections.
type Server struct {
	cfg      *config.Config
	router   *router.Router
	accounts storage.Accounts
	certs    Certificates
	tls      *tls.Config
	log      *slog.Logger
	throttle *authThrottle
	sm       smRegistry
	// nonzas handle stream-level elements after bind by namespace, such
	// as client state indication.
	nonzas map[string]NonzaHandler
	// preBind handle stream-level elements after authentication and
	// before bind, such as stream management resumption.
	preBind map[string]func(context.Context, *conn, *stanza.Stanza) error

	conns netserve.Tracker[*conn]

	// boundFeatures is the serialized stream features offered after
	// authentication, made by the first stream that needs them.
	boundFeatures struct {
		once sync.Once
		xml  []byte
	}
}

// New returns a client server.
func New(cfg *config.Config, r *router.Router, accounts storage.Accounts, certs Certificates, log *slog.Logger) *Server {
	minVer := uint16(tls.VersionTLS12)
	if cfg.TLS.MinVersion == "1.3" {
		minVer = tls.VersionTLS13
	}
	return &Server{
		cfg:      cfg,
		router:   r,
		accounts: accounts,
		certs:    certs,
		tls:      certs.TLSConfig(minVer),
		log:      log,
		throttle: newAuthThrottle(cfg.Auth.MaxFailuresPerIP, cfg.Auth.MaxFailuresPerAccount, cfg.Auth.FailureWindow),
		nonzas:   make(map[string]NonzaHandler),
		preBind:  make(map[string]func(context.Context, *conn, *stanza.Stanza) error),
	}
}

// Serve accepts connections on l until Shutdown. With directTLS the TLS
// handshake comes first (XEP-0368); otherwise clients use STARTTLS.
func (s *Server) Serve(l net.Listener, directTLS bool) error {
	newConn := func(nc net.Conn) *conn { return newConn(s, nc, directTLS) }
	return s.conns.Serve(l, newConn, (*conn).serve)
}

// Shutdown stops accepting, ends every stream with system-shutdown and
// waits for the connections to finish or ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, c := range s.conns.Close() {
		c.shutdown(stream.SystemShutdown)
	}
	return s.conns.Wait(ctx)
}

// ConnCount returns the number of open client connections.
func (s *Server) ConnCount() int { return s.conns.Len() }

// timeoutOr returns d, or def when d is zero.
func timeoutOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
