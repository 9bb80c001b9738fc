package server

import (
	"context"
	"fmt"

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

// Admin returns the administrative operations on this server's storage
// and sessions.
func (s *Server) Admin() *admin.Service {
	return admin.New(s.store, admin.Options{
		Domains:    s.cfg.Server.Domains,
		Iterations: s.cfg.Auth.SCRAMIterations,
		Hashes:     s.cfg.Auth.SCRAMHashes,
		Sessions:   s.router,
		Log:        s.log.With("component", "admin"),
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
