// Package server assembles a Tern server from its configuration: storage,
// certificates, router, modules and listeners. cmd/ternd runs it, and
// end-to-end tests start it in-process.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/c2s"
	"tern/certs"
	"tern/component"
	"tern/config"
	"tern/httpd"
	"tern/modules"
	"tern/router"
	"tern/s2s"
	"tern/storage"
	"tern/storage/postgres"
	"tern/storage/sqlite"
)

// Server is a running Tern instance.
type Server struct {
	cfg    *config.Config
	log    *slog.Logger
	store  storage.Store
	router *router.Router
	c2s    *c2s.Server
	s2s    *s2s.Server
	comp   *component.Server
	certs  *certs.Manager

	mu        sync.Mutex
	http      *httpd.Server // guarded by mu
	mounts    []httpMount   // handlers of modules; guarded by mu
	listeners []net.Listener
	addrs     map[string][]net.Addr // listener kind → bound addresses
	wg        sync.WaitGroup
}

// OpenStore opens the storage backend the configuration names.
func OpenStore(ctx context.Context, cfg *config.Config) (storage.Store, error) {
	switch cfg.Storage.Backend {
	case "postgres":
		st, err := postgres.Open(ctx, cfg.Storage.PostgresDSN)
		if err != nil {
			return nil, fmt.Errorf("open postgres storage: %w", err)
		}
		return st, nil
	default:
		path := cfg.Path(cfg.Storage.SQLiteFile)
		if err := os.MkdirAll(cfg.Path("."), 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite storage %s: %w", path, err)
		}
		return st, nil
	}
}

// New builds a server from cfg without opening any listener.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	files := make(map[string]certs.FilePair)
	for _, c := range cfg.TLS.Certificates {
		files[c.Domain] = certs.FilePair{CertFile: cfg.Path(c.CertFile), KeyFile: cfg.Path(c.KeyFile)}
	}
	cm, err := certs.NewManager(cfg.Path("certs"), certDomains(cfg), files)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("load certificates: %w", err)
	}
	s := &Server{cfg: cfg, log: log, store: st, certs: cm, addrs: make(map[string][]net.Addr)}
	s.router = router.New(log.With("component", "router"), cfg.Server.Domains, s.accountExists)
	env := &modules.Env{Host: s.router, Store: st, Config: cfg}
	if cfg.HTTP.Listen != "" {
		env.HTTP = s
	}
	if err := modules.Start(env, cfg.Modules.Disabled); err != nil {
		st.Close()
		return nil, err
	}
	s.c2s = c2s.New(cfg, s.router, st, cm, log.With("component", "c2s"))
	s.s2s = s2s.New(cfg, s.router, cm, log.With("component", "s2s"))
	if cfg.S2S.Enabled {
		s.router.SetRemote(s.s2s)
	}
	if err := s.newComponents(); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

func certDomains(cfg *config.Config) []string {
	domains := append([]string(nil), cfg.Server.Domains...)
	for _, svc := range cfg.Component.Services {
		domains = append(domains, svc.Domain)
	}
	return domains
}

func (s *Server) accountExists(ctx context.Context, bare jid.JID) bool {
	_, err := s.store.GetAccount(ctx, storage.Owner{Domain: bare.Domainpart(), Local: bare.Localpart()})
	return err == nil
}

// Store returns the server's storage.
func (s *Server) Store() storage.Store { return s.store }

// Router returns the server's router.
func (s *Server) Router() *router.Router { return s.router }

// C2S returns the client stream server.
func (s *Server) C2S() *c2s.Server { return s.c2s }

// S2S returns the server-to-server stream server.
func (s *Server) S2S() *s2s.Server { return s.s2s }

// Config returns the configuration the server runs with.
func (s *Server) Config() *config.Config { return s.cfg }

// Addrs returns the bound addresses of a listener kind: "c2s",
// "c2s-tls", "s2s", "s2s-tls", "component" or "http".
func (s *Server) Addrs(kind string) []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]net.Addr(nil), s.addrs[kind]...)
}

// Start opens every configured listener and serves in the background.
func (s *Server) Start() error {
	for _, addr := range s.cfg.C2S.Listen {
		if err := s.listen("c2s", addr, func(l net.Listener) error { return s.c2s.Serve(l, false) }); err != nil {
			return err
		}
	}
	for _, addr := range s.cfg.C2S.DirectTLSListen {
		if err := s.listen("c2s-tls", addr, func(l net.Listener) error { return s.c2s.Serve(l, true) }); err != nil {
			return err
		}
	}
	for _, addr := range s.s2sAddrs(s.cfg.S2S.Listen) {
		if err := s.listen("s2s", addr, func(l net.Listener) error { return s.s2s.Serve(l, false) }); err != nil {
			return err
		}
	}
	for _, addr := range s.s2sAddrs(s.cfg.S2S.DirectTLSListen) {
		if err := s.listen("s2s-tls", addr, func(l net.Listener) error { return s.s2s.Serve(l, true) }); err != nil {
			return err
		}
	}
	if err := s.startComponents(); err != nil {
		return err
	}
	return s.startHTTP()
}

// s2sAddrs returns addrs, or none when federation is disabled.
func (s *Server) s2sAddrs(addrs []string) []string {
	if !s.cfg.S2S.Enabled {
		return nil
	}
	return addrs
}

func (s *Server) listen(kind, addr string, serve func(net.Listener) error) error {
	var listenConfig net.ListenConfig
	if strings.HasPrefix(kind, "c2s") {
		// Client streams have their own keepalive (c2s.keepalive_interval),
		// so the kernel's would only cost four system calls per connection.
		listenConfig.KeepAlive = -1
	}
	l, err := listenConfig.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for %s on %s: %w", kind, addr, err)
	}
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.addrs[kind] = append(s.addrs[kind], l.Addr())
	s.mu.Unlock()
	s.log.Info("listening", "kind", kind, "addr", l.Addr().String())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := serve(l); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("listener stopped", "kind", kind, "addr", addr, "err", err)
		}
	}()
	return nil
}

// ReloadCertificates reads the certificate files again, for new
// connections; on failure the certificates in use stay.
func (s *Server) ReloadCertificates() error { return s.certs.Reload() }

// Shutdown ends every stream with system-shutdown, waits for sessions to
// end (so their presence and state are stored) and closes storage.
func (s *Server) Shutdown(ctx context.Context) error {
	s.router.Stop(ctx)
	err := s.c2s.Shutdown(ctx)
	err = errors.Join(err, s.comp.Shutdown(ctx))
	// After the client streams, so their last presence reaches peers.
	err = errors.Join(err, s.s2s.Shutdown(ctx))
	s.stopHTTP(ctx)
	s.mu.Lock()
	for _, l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}
