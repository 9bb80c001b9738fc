// Package s2s federates with other XMPP servers (RFC 6120): it accepts
// incoming server-to-server streams on the s2s listeners and keeps a pool
// of outgoing streams, one per pair of local and remote domain.
//
// A peer authenticates with SASL EXTERNAL when its certificate verifies
// for its domain, and otherwise with Server Dialback (XEP-0220). Outgoing
// streams find the peer through the _xmpp-server._tcp and _xmpps-server._tcp
// SRV records (XEP-0368), falling back to the domain on port 5269.
package s2s

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"tern/config"
	"tern/stanza"
	"tern/stream"
)

// Router is the part of the router the s2s server uses: it routes the
// stanzas that peers send and bounces those it cannot deliver.
type Router interface {
	Route(ctx context.Context, s *stanza.Stanza)
	Bounce(ctx context.Context, s *stanza.Stanza, err error)
	IsLocal(domain string) bool
	HasComponent(domain string) bool
}

// Certificates chooses the TLS configuration and certificate per domain.
type Certificates interface {
	TLSConfig(minVersion uint16) *tls.Config
	Certificate(domain string) *tls.Certificate
}

// DefaultIdleTimeout is how long a stream may carry nothing before it is
// closed.
const DefaultIdleTimeout = 10 * time.Minute

// Server runs the incoming and outgoing server-to-server streams. It
// implements router.Remote.
type Server struct {
	cfg    *config.Config
	router Router
	certs  Certificates
	tls    *tls.Config
	log    *slog.Logger
	// secret keys the dialback HMAC. It is random per process, so keys
	// do not survive a restart.
	secret []byte
	roots  trustStore
	idle   atomic.Int64 // nanoseconds
	// lookupSRV and dial are net.DefaultResolver.LookupSRV and a
	// net.Dialer's DialContext; tests replace them.
	lookupSRV func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)

	ctx    context.Context // ends with Shutdown
	cancel context.CancelFunc

	mu        sync.Mutex
	addrs     map[string]string     // domain → fixed address; guarded by mu
	listeners map[net.Listener]bool // guarded by mu
	in        map[*inConn]bool      // guarded by mu
	out       map[outKey]*outStream // guarded by mu
	closing   bool                  // guarded by mu
	wg        sync.WaitGroup
}

// New returns a server for the configuration's [s2s] and [tls] settings.
// It opens no listener; call Serve for each.
func New(cfg *config.Config, r Router, certs Certificates, log *slog.Logger) *Server {
	secret := make([]byte, 32)
	rand.Read(secret)
	ctx, cancel := context.WithCancel(context.Background())
	d := &net.Dialer{Timeout: dialTimeout}
	s := &Server{
		cfg:       cfg,
		router:    r,
		certs:     certs,
		tls:       certs.TLSConfig(cfg.TLS.MinTLSVersion()),
		log:       log,
		secret:    secret,
		lookupSRV: net.DefaultResolver.LookupSRV,
		dial:      d.DialContext,
		ctx:       ctx,
		cancel:    cancel,
		addrs:     make(map[string]string),
		listeners: make(map[net.Listener]bool),
		in:        make(map[*inConn]bool),
		out:       make(map[outKey]*outStream),
	}
	s.idle.Store(int64(DefaultIdleTimeout))
	return s
}

// SetAddr makes outgoing streams to domain connect to addr (host:port)
// with STARTTLS instead of looking up DNS. It exists for tests, which run
// several servers on loopback ports; the configuration has no equivalent.
// An empty addr removes the mapping.
func (s *Server) SetAddr(domain, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if addr == "" {
		delete(s.addrs, domain)
		return
	}
	s.addrs[domain] = addr
}

// SetIdleTimeout changes how long a stream may carry nothing before it is
// closed; the default is DefaultIdleTimeout. It affects idle checks that
// run after the call.
func (s *Server) SetIdleTimeout(d time.Duration) { s.idle.Store(int64(d)) }

func (s *Server) idleTimeout() time.Duration { return time.Duration(s.idle.Load()) }

// Serve accepts incoming streams on l until Shutdown. With directTLS the
// TLS handshake comes first (XEP-0368); otherwise peers use STARTTLS.
func (s *Server) Serve(l net.Listener, directTLS bool) error {
	if !s.track(l) {
		return net.ErrClosed
	}
	defer s.untrack(l)
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isClosing() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		c := newInConn(s, nc, directTLS)
		if !s.addIn(c) {
			nc.Close()
			continue
		}
		go func() {
			defer s.wg.Done()
			defer s.removeIn(c)
			c.serve()
		}()
	}
}

func (s *Server) track(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.listeners[l] = true
	return true
}

func (s *Server) untrack(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// addIn registers an incoming connection and counts it in wg.
func (s *Server) addIn(c *inConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.in[c] = true
	s.wg.Add(1)
	return true
}

func (s *Server) removeIn(c *inConn) {
	s.mu.Lock()
	delete(s.in, c)
	s.mu.Unlock()
}

// Shutdown stops accepting, ends every stream with system-shutdown,
// bounces stanzas still waiting for a stream, and waits for the streams
// to finish or ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	in := make([]*inConn, 0, len(s.in))
	for c := range s.in {
		in = append(in, c)
	}
	out := make([]*outStream, 0, len(s.out))
	for _, o := range s.out {
		out = append(out, o)
	}
	s.mu.Unlock()

	s.cancel()
	for _, c := range in {
		c.shutdown(stream.SystemShutdown)
	}
	for _, o := range out {
		o.shutdown(stream.SystemShutdown)
	}

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StreamCount returns the number of incoming and outgoing streams open or
// being set up.
func (s *Server) StreamCount() (incoming, outgoing int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.in), len(s.out)
}

// serves reports whether domain is served here, as a user domain or by a
// component.
func (s *Server) serves(domain string) bool {
	return s.router.IsLocal(domain) || s.router.HasComponent(domain)
}

// limits returns the stream limits, which are those of client streams.
func (s *Server) limits(authenticated bool) stream.Limits {
	l := stream.Limits{MaxSize: int(s.cfg.C2S.MaxStanzaSizeBeforeAuth), MaxDepth: s.cfg.C2S.MaxElementDepth}
	if authenticated {
		l.MaxSize = int(s.cfg.C2S.MaxStanzaSize)
	}
	return l
}

func timeoutOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
