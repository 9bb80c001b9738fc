package server

import (
	"context"
	"fmt"
	"sync"

	"tern/admin"
	"tern/httpd"
)

// httpServers maps each started *Server to its *httpd.Server, for
// stopHTTP. A Server without an entry has no HTTP side to stop.
var httpServers sync.Map

// startHTTP serves the admin API on the control socket
// <data_dir>/ternd.sock, and metrics, the admin API and mounted handlers
// on http.listen unless that is empty.
func (s *Server) startHTTP() error {
	h := httpd.New(httpd.Options{
		Admin:        s.Admin(),
		AdminToken:   s.cfg.HTTP.AdminToken,
		SessionCount: s.router.SessionCount,
		ConnCount:    s.c2s.ConnCount,
		Log:          s.log.With("component", "httpd"),
	})
	// TODO: mount the RFC 7395 WebSocket endpoint at /xmpp-websocket with
	// h.Handle once c2s serves WebSocket streams.
	httpServers.Store(s, h)
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
		Sessions:   s.router,
		Log:        s.log.With("component", "admin"),
	})
}

// stopHTTP stops the HTTP listener and the control socket, waiting for
// requests in progress until ctx ends, and logs what fails.
func (s *Server) stopHTTP(ctx context.Context) {
	v, ok := httpServers.LoadAndDelete(s)
	if !ok {
		return
	}
	if err := v.(*httpd.Server).Shutdown(ctx); err != nil {
		s.log.Warn("HTTP shutdown cut short; open connections closed", "err", err)
	}
}
