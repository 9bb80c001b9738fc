package server

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"tern/admin"
	"tern/httpd"
)

// WebSocketPath is where the XMPP WebSocket endpoint (RFC 7395) is
// served on http.listen.
const WebSocketPath = "/xmpp-websocket"

// startHTTP serves the admin API on the control socket
// <data_dir>/ternd.sock, and metrics, the admin API and mounted handlers
// on http.listen unless that is empty.
func (s *Server) startHTTP() error {
	h := httpd.New(httpd.Options{
		Admin:        s.Admin(),
		AdminToken:   s.cfg.HTTP.AdminToken,
		SessionCount: s.router.SessionCount,
		ConnCount:    s.c2s.ConnCount,
		Collectors:   s.metricsCollectors(),
		Log:          s.log.With("component", "httpd"),
	})
	h.Handle(WebSocketPath, s.c2s.WebSocketHandler())
	s.mu.Lock()
	for _, m := range s.mounts {
		h.Handle(m.pattern, m.handler)
	}
	s.http = h
	s.mu.Unlock()
	if err := h.ServeSocket(s.cfg.Path(httpd.SocketName)); err != nil {
		return fmt.Errorf("start control socket: %w", err)
	}
	if s.cfg.HTTP.Listen == "" {
		return nil
	}
	return s.listen("http", s.cfg.HTTP.Listen, h.Serve)
}

// httpMount is a handler that a module mounts on http.listen.
type httpMount struct {
	pattern string
	handler http.Handler
}

// HandleHTTP implements modules.HTTPMux: it mounts h on http.listen when
// the listener starts. Handlers mounted after Start are not served.
func (s *Server) HandleHTTP(pattern string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts = append(s.mounts, httpMount{pattern, h})
}

// HTTPAddr implements modules.HTTPMux: it returns the bound address of
// http.listen, or nil before Start.
func (s *Server) HTTPAddr() net.Addr {
	if addrs := s.Addrs("http"); len(addrs) > 0 {
		return addrs[0]
	}
	return nil
}

// Admin returns the administrative operations on this server's storage
// and sessions.
func (s *Server) Admin() *admin.Service {
	return admin.New(s.store, admin.Options{
		Domains:           s.cfg.Server.Domains,
		Iterations:        s.cfg.Auth.SCRAMIterations,
		MinPasswordLength: s.cfg.Registration.MinPasswordLength,
		Hashes:            s.cfg.Auth.SCRAMHashes,
		Sessions:          s.router,
		Log:               s.log.With("component", "admin"),
	})
}

// stopHTTP stops the HTTP listener and the control socket, waiting for
// requests in progress until ctx ends, and logs what fails.
func (s *Server) stopHTTP(ctx context.Context) {
	s.mu.Lock()
	h := s.http
	s.http = nil
	s.mu.Unlock()
	if h == nil {
		return
	}
	if err := h.Shutdown(ctx); err != nil {
		s.log.Warn("HTTP shutdown cut short; open connections closed", "err", err)
	}
}
