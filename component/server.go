// Package component serves external components over the Jabber Component
// Protocol (XEP-0114). A component, such as a gateway or a multi-user chat
// service, connects over TCP and proves that it has the shared secret of
// its domain. From then on it sends stanzas from that domain and receives
// every stanza addressed to it.
//
// Each configured domain stays registered with the router while the
// server runs. A stanza for a domain whose component is not connected is
// answered with service-unavailable; it is never treated as addressed to a
// remote server. A second connection for a domain that already has one is
// rejected with the conflict stream error, and the first one stays.
package component

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"tern/config"
	"tern/internal/netserve"
	"tern/router"
	"tern/stanza"
	"tern/stream"
)

// Router is the part of the server's router that components use.
type Router interface {
	// AddComponent routes every stanza for domain to c. It returns false
	// if the domain is taken.
	AddComponent(domain string, c router.Component) bool
	// AddItem lists a service in the server's disco#items.
	AddItem(jid, name string)
	// Route sends a stanza with 'from' and 'to' set to its destination.
	Route(ctx context.Context, s *stanza.Stanza)
	// Domains returns the server's own domains. Errors that the server
	// generates for a component come from the first one.
	Domains() []string
}

// Server accepts component connections on any number of listeners.
type Server struct {
	router Router
	log    *slog.Logger
	slots  map[string]*slot // by domain; fixed after New

	preAuth          stream.Limits // before the handshake
	limits           stream.Limits // after the handshake
	sendQueue        int
	handshakeTimeout time.Duration

	conns netserve.Tracker[*conn]
}

// New returns a server for the components in cfg.Component.Services and
// registers each one's domain with r: r sends the domain's stanzas to the
// server from then on, connected or not, and lists the domain in the
// server's disco#items. New must be called before r routes any stanza,
// because registration is not safe for concurrent use.
//
// Limits are those of client streams: c2s.max_stanza_size_before_auth
// until the handshake, then c2s.max_stanza_size and c2s.max_element_depth.
// c2s.auth_timeout bounds the time to the handshake and c2s.send_queue the
// stanzas waiting for one component.
func New(cfg *config.Config, r Router, log *slog.Logger) (*Server, error) {
	depth := cfg.C2S.MaxElementDepth
	s := &Server{
		router:           r,
		log:              log,
		slots:            make(map[string]*slot),
		preAuth:          stream.Limits{MaxSize: int(cfg.C2S.MaxStanzaSizeBeforeAuth), MaxDepth: depth},
		limits:           stream.Limits{MaxSize: int(cfg.C2S.MaxStanzaSize), MaxDepth: depth},
		sendQueue:        cfg.C2S.SendQueue,
		handshakeTimeout: orDefault(cfg.C2S.AuthTimeout, time.Minute),
	}
	// TODO: a component.send_queue key would let operators size the queue
	// of a busy component apart from that of one client.
	for _, svc := range cfg.Component.Services {
		if err := s.register(svc); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// register adds the router entry and the disco item of one service.
func (s *Server) register(svc config.ComponentService) error {
	// config.Load normalizes domains already; a configuration built in
	// code may not be.
	d, err := jid.Parse(svc.Domain)
	if err != nil || d.Localpart() != "" || d.Resourcepart() != "" {
		return fmt.Errorf("component %q: not a domain", svc.Domain)
	}
	domain := d.Domainpart()
	sl := &slot{domain: domain, secret: svc.Secret}
	if !s.router.AddComponent(domain, sl) {
		return fmt.Errorf("component %s: the domain is already routed elsewhere", domain)
	}
	s.slots[domain] = sl
	// TODO: the listing is static, so it includes components that are not
	// connected, because the router offers no way to remove an item.
	s.router.AddItem(domain, "")
	return nil
}

// slot is the router's entry for one configured domain. It forwards
// stanzas to the domain's authenticated connection, if there is one.
type slot struct {
	domain string
	secret string
	conn   atomic.Pointer[conn] // the connection that completed the handshake
}

// Send implements router.Component. It returns stanza.ServiceUnavailable
// while no component is connected for the domain.
func (sl *slot) Send(_ context.Context, st *stanza.Stanza) error {
	c := sl.conn.Load()
	if c == nil {
		return stanza.ServiceUnavailable
	}
	return c.send(st)
}

// claim makes c the domain's connection unless another one holds it.
func (sl *slot) claim(c *conn) bool { return sl.conn.CompareAndSwap(nil, c) }

// release removes c as the domain's connection and reports whether c
// held it.
func (sl *slot) release(c *conn) bool { return sl.conn.CompareAndSwap(c, nil) }

// Connected reports whether a component is connected for domain.
func (s *Server) Connected(domain string) bool {
	sl := s.slots[domain]
	return sl != nil && sl.conn.Load() != nil
}

// Serve accepts connections on l until Shutdown or until l fails. It
// returns net.ErrClosed when called after Shutdown, and nil when Shutdown
// stops it.
func (s *Server) Serve(l net.Listener) error {
	err := s.conns.Serve(l, func(nc net.Conn) *conn { return newConn(s, nc) }, (*conn).serve)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("component: accept: %w", err)
	}
	return err
}

// Shutdown stops accepting, ends every component stream with the
// system-shutdown stream error and waits until the connections are closed
// or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, c := range s.conns.Close() {
		c.close(stream.SystemShutdown)
	}
	if err := s.conns.Wait(ctx); err != nil {
		return fmt.Errorf("component: shutdown: %w", err)
	}
	return nil
}

// ConnCount returns the number of open component connections, including
// those that have not completed the handshake.
func (s *Server) ConnCount() int { return s.conns.Len() }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
