// Package xmpptest runs a Tern server in-process on loopback ports and
// connects test clients to it, for end-to-end tests.
package xmpptest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"tern/c2s/sasl"
	"tern/config"
	"tern/server"
	"tern/storage"

	_ "tern/modules/all" // the modules the server ships with
)

// Server is a server started for one test.
type Server struct {
	*server.Server
	t       testing.TB
	cfg     *config.Config
	log     *slog.Logger
	stopped bool
}

// Start starts a server with domain "localhost", SQLite in a temporary
// directory, TLS required, and every listener on 127.0.0.1 port 0. The
// options change the configuration before start. The server stops when
// the test ends.
func Start(t testing.TB, opts ...func(*config.Config)) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TERN_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return StartWithLog(t, log, opts...)
}

// StartWithLog is Start with the server's records sent to log, so that a
// test can check what the server logs.
func StartWithLog(t testing.TB, log *slog.Logger, opts ...func(*config.Config)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Server.DataDir = t.TempDir()
	cfg.C2S.Listen = []string{"127.0.0.1:0"}
	cfg.C2S.DirectTLSListen = []string{"127.0.0.1:0"}
	cfg.S2S.Listen = []string{"127.0.0.1:0"}
	cfg.S2S.DirectTLSListen = nil
	cfg.Component.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Auth.SCRAMIterations = 4096
	for _, o := range opts {
		o(cfg)
	}
	return startWith(t, cfg, log)
}

func startWith(t testing.TB, cfg *config.Config, log *slog.Logger) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	if err := srv.Start(); err != nil {
		srv.Shutdown(ctx)
		t.Fatalf("start listeners: %v", err)
	}
	s := &Server{Server: srv, t: t, cfg: cfg, log: log}
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down; it is safe to call twice.
func (s *Server) Stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		s.t.Errorf("shut down server: %v", err)
	}
}

// Restart stops the server and starts a new one on the same configuration,
// data and logger, on new ports.
func (s *Server) Restart() *Server {
	s.t.Helper()
	s.Stop()
	return startWith(s.t, s.cfg, s.log)
}

// Addr returns the first bound address of a listener kind ("c2s",
// "c2s-tls", "s2s", "component", "http").
func (s *Server) Addr(kind string) string {
	addrs := s.Addrs(kind)
	if len(addrs) == 0 {
		s.t.Fatalf("no %s listener", kind)
	}
	return addrs[0].String()
}

// Domain returns the first served domain.
func (s *Server) Domain() string { return s.cfg.Server.Domains[0] }

// AddUser creates an account on the first domain.
func (s *Server) AddUser(local, password string) {
	s.AddUserAt(s.Domain(), local, password)
}

// AddUserAt creates an account on a given domain.
func (s *Server) AddUserAt(domain, local, password string) {
	s.t.Helper()
	keys, err := sasl.NewKeys(password, s.cfg.Auth.SCRAMIterations, s.cfg.Auth.SCRAMHashes)
	if err != nil {
		s.t.Fatalf("derive keys: %v", err)
	}
	err = s.Store().CreateAccount(context.Background(), storage.Account{
		Owner: storage.Owner{Domain: domain, Local: local}, Keys: keys, CreatedAt: time.Now(),
	})
	if err != nil {
		s.t.Fatalf("create account %s@%s: %v", local, domain, err)
	}
}
