// Package httpd serves Tern's HTTP endpoints: Prometheus metrics at
// /metrics and the admin REST API under /api/v1/ on the http.listen
// address, and the same API on a Unix socket in the data directory, which
// ternctl uses.
//
// On the TCP listener the API requires "Authorization: Bearer <token>"
// with http.admin_token, and is absent (404) when no token is configured.
// On the Unix socket it needs no token: the socket file has mode 0600, so
// only the server's own user (and root) can connect.
//
// Every request path must be in canonical form. A request whose path has
// dot-segments ("." or ".."), ';', invalid percent-encoding, or
// percent-encoded slashes, backslashes or unreserved characters gets 400
// before any routing or authorization. So the path that is authorized is
// the path that is served.
package httpd

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tern/admin"
)

// Options configure a Server.
type Options struct {
	// Admin runs the operations of the REST API.
	Admin *admin.Service
	// AdminToken is the bearer token of the REST API on the TCP listener;
	// empty turns the API off there. The Unix socket serves the API
	// without a token either way.
	AdminToken string
	// SessionCount and ConnCount feed the tern_sessions_online and
	// tern_c2s_connections gauges; a nil function leaves its gauge out.
	SessionCount func() int
	ConnCount    func() int
	// Collectors are further metrics to serve, such as the router's
	// stanza counters.
	Collectors []prometheus.Collector
	// Log receives lifecycle records and errors; nil discards them.
	Log *slog.Logger
}

// Server is the HTTP side of a Tern server. Create it with New, mount
// extra handlers with Handle, then call Serve and ServeSocket.
type Server struct {
	admin     *admin.Service
	hasToken  bool
	tokenHash [sha256.Size]byte
	log       *slog.Logger
	registry  *prometheus.Registry
	public    *http.ServeMux // routes of the TCP listener
	api       http.Handler   // routes of the REST API
	failures  failureLog

	mu      sync.Mutex
	servers []*http.Server  // guarded by mu
	socket  *socketListener // guarded by mu
	closed  bool            // guarded by mu
	wg      sync.WaitGroup  // counts the socket's serve goroutine
}

// New returns a Server with /metrics and the REST API routed.
func New(opts Options) *Server {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		admin:    opts.Admin,
		hasToken: opts.AdminToken != "",
		log:      log,
		registry: newRegistry(opts),
		public:   http.NewServeMux(),
	}
	s.tokenHash = sha256.Sum256([]byte(opts.AdminToken))
	s.api = jsonNoRoute(s.apiRoutes())
	s.public.Handle("GET /metrics", metricsHandler(s.registry, log))
	s.public.Handle(apiPrefix, http.HandlerFunc(s.gateAPI))
	return s
}

// Handle mounts h on the TCP listener for pattern, in the syntax of
// http.ServeMux, in addition to /metrics and /api/. Mount handlers before
// Serve; like http.ServeMux.Handle, it panics when pattern conflicts with
// a pattern already mounted. The handler gets requests whose path passed
// the canonical-form check, with no authorization applied.
func (s *Server) Handle(pattern string, h http.Handler) { s.public.Handle(pattern, h) }

// Registerer returns the registry that /metrics exposes, so that other
// packages can add their collectors.
func (s *Server) Registerer() prometheus.Registerer { return s.registry }

// Handler returns the handler of the TCP listener: the canonical-form
// check in front of /metrics, the REST API and the mounted handlers.
func (s *Server) Handler() http.Handler { return requireCanonical(s.public) }

// Serve serves Handler on l until Shutdown, then returns nil. Other
// errors of l are returned.
func (s *Server) Serve(l net.Listener) error {
	return s.serve(l, s.Handler())
}

func (s *Server) serve(l net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops both listeners, waits for requests in progress until ctx
// ends, then closes the connections that remain and removes the socket
// file. It returns ctx's error when it had to close connections.
// Connections taken over by a handler (such as WebSocket streams) are not
// waited for: their owner closes them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	servers := s.servers
	socket := s.socket
	s.mu.Unlock()
	var err error
	for _, srv := range servers {
		if serr := srv.Shutdown(ctx); serr != nil {
			srv.Close()
			err = serr
		}
	}
	s.wg.Wait()
	if socket != nil {
		if rerr := socket.remove(); rerr != nil {
			s.log.Warn("remove control socket", "path", socket.path, "err", rerr)
		}
	}
	return err
}
