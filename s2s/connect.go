package s2s

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"tern/certs"
	"tern/stanza"
	"tern/stream"
)

// Time limits of outgoing streams.
const (
	dialTimeout = 10 * time.Second
	// negotiateTimeout bounds everything from resolving the domain to the
	// end of authentication, including a dialback verification.
	negotiateTimeout = 30 * time.Second
	writeTimeout     = 30 * time.Second
)

// connectError marks a failure to resolve the remote domain or to open a
// TCP connection to it; queued stanzas bounce with remote-server-not-found.
// Every later failure bounces them with remote-server-timeout.
type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// link is an outgoing stream from a local domain to a remote one during
// negotiation: connected, stream opened and TLS set up where the peer
// offers it.
type link struct {
	srv           *Server
	local, remote string
	log           *slog.Logger
	raw           net.Conn
	nc            net.Conn // raw, or the TLS connection over it
	br            *bufio.Reader
	rd            *stream.Reader
	secure        bool
	peerVerified  bool          // the peer's certificate verifies for remote
	header        stream.Header // the peer's stream header
	features      *stanza.Element
	unwatch       func() bool // stops closing the connection when ctx ends
}

// connect resolves remote, connects to the first target that accepts,
// opens the stream and negotiates TLS. The connection closes when ctx
// ends, until the caller calls established or close.
func (s *Server) connect(ctx context.Context, local, remote string) (*link, error) {
	targets, err := s.resolve(ctx, remote)
	if err != nil {
		return nil, &connectError{err}
	}
	// The result is a connectError only when no target accepted a TCP
	// connection; otherwise it joins the failures after connecting.
	var connectErrs, laterErrs []error
	for _, t := range targets {
		l, err := s.connectTarget(ctx, local, remote, t)
		if err == nil {
			return l, nil
		}
		var ce *connectError
		if errors.As(err, &ce) {
			connectErrs = append(connectErrs, ce.err)
		} else {
			laterErrs = append(laterErrs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(laterErrs) > 0 {
		return nil, errors.Join(laterErrs...)
	}
	return nil, &connectError{errors.Join(connectErrs...)}
}

func (s *Server) connectTarget(ctx context.Context, local, remote string, t target) (*link, error) {
	nc, err := s.dial(ctx, "tcp", t.addr)
	if err != nil {
		return nil, &connectError{fmt.Errorf("s2s: connect to %s for %s: %w", t.addr, remote, err)}
	}
	l := &link{
		srv: s, local: local, remote: remote, raw: nc, nc: nc,
		log: s.log.With("local", local, "remote", remote, "addr", t.addr),
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	l.unwatch = context.AfterFunc(ctx, func() { nc.Close() })
	if err := l.setUp(ctx, t.directTLS); err != nil {
		l.unwatch()
		nc.Close()
		return nil, err
	}
	return l, nil
}

// established ends negotiation: the context passed to connect no longer
// closes the connection, and its deadline is lifted. It reports false if
// the context has closed the connection already.
func (l *link) established() bool {
	if !l.unwatch() {
		return false
	}
	l.raw.SetDeadline(time.Time{})
	return true
}

// setUp opens the stream and negotiates TLS.
func (l *link) setUp(ctx context.Context, directTLS bool) error {
	if directTLS {
		if err := l.handshake(ctx, []string{certs.ALPNServer}); err != nil {
			return err
		}
	}
	l.br = bufio.NewReaderSize(l.nc, 4096)
	l.rd = stream.NewReader(l.br, l.srv.limits(false))
	if err := l.open(); err != nil {
		return err
	}
	if l.secure {
		return nil
	}
	if l.features.Child(nsTLS, "starttls") == nil {
		if l.srv.cfg.TLS.Required {
			return fmt.Errorf("s2s: %s does not offer STARTTLS, which is required", l.remote)
		}
		return nil
	}
	return l.startTLS(ctx)
}

func (l *link) startTLS(ctx context.Context) error {
	if err := l.send(stanza.NewElement(nsTLS, "starttls")); err != nil {
		return err
	}
	el, err := l.next()
	if err != nil {
		return err
	}
	if el.Space != nsTLS || el.Name != "proceed" {
		return fmt.Errorf("s2s: %s sent <%s/> instead of <proceed/> after STARTTLS", l.remote, el.Name)
	}
	if err := l.handshake(ctx, nil); err != nil {
		return err
	}
	l.br = bufio.NewReaderSize(l.nc, 4096)
	l.rd.Reset(l.br)
	return l.open()
}

// handshake runs a TLS client handshake with the remote domain as server
// name (SNI), presenting the local domain's certificate.
func (l *link) handshake(ctx context.Context, alpn []string) error {
	name, err := idna.Lookup.ToASCII(strings.TrimSuffix(l.remote, "."))
	if err != nil {
		return fmt.Errorf("s2s: invalid domain %q: %w", l.remote, err)
	}
	cfg := &tls.Config{
		ServerName: name,
		MinVersion: l.srv.cfg.TLS.MinTLSVersion(),
		NextProtos: alpn,
		// The chain is verified below for the remote domain. A peer whose
		// certificate does not verify may still prove its domain with
		// dialback, so the handshake itself does not reject it.
		InsecureSkipVerify: true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if c := l.srv.certs.Certificate(l.local); c != nil {
				return c, nil
			}
			return &tls.Certificate{}, nil
		},
	}
	tc := tls.Client(l.nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("s2s: TLS handshake with %s: %w", l.remote, err)
	}
	l.nc = tc
	l.secure = true
	l.peerVerified = l.srv.roots.verify(tc.ConnectionState().PeerCertificates, l.remote)
	return nil
}

// open sends the stream header and reads the peer's header and features.
func (l *link) open() error {
	h := stream.Header{NS: stanza.NSServer, From: l.local, To: l.remote, Version: "1.0", Dialback: true}
	if err := l.write(stream.AppendOpen(nil, h)); err != nil {
		return err
	}
	peer, err := l.rd.ReadHeader()
	if err != nil {
		return fmt.Errorf("s2s: read stream header of %s: %w", l.remote, err)
	}
	if peer.NS != stanza.NSServer {
		return fmt.Errorf("s2s: %s opened a stream in namespace %q", l.remote, peer.NS)
	}
	l.header = peer
	if !strings.HasPrefix(peer.Version, "1.") {
		// A server older than RFC 6120 sends no features.
		l.features = stanza.NewElement(stream.NS, "features")
		return nil
	}
	el, err := l.next()
	if err != nil {
		return err
	}
	if el.Space != stream.NS || el.Name != "features" {
		return fmt.Errorf("s2s: %s sent <%s/> instead of stream features", l.remote, el.Name)
	}
	l.features, err = el.Payload()
	return err
}

// next reads the next element, turning a stream error into an error.
func (l *link) next() (*stanza.Stanza, error) {
	el, err := l.rd.Next()
	if err != nil {
		return nil, fmt.Errorf("s2s: read from %s: %w", l.remote, err)
	}
	if el.Space == stream.NS && el.Name == "error" {
		return nil, fmt.Errorf("s2s: %s sent stream error %s", l.remote, streamErrorCondition(el))
	}
	return el, nil
}

func (l *link) send(el *stanza.Element) error { return l.write(el.AppendXML(nil, "")) }

func (l *link) write(b []byte) error {
	l.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := l.nc.Write(b)
	if err != nil {
		return fmt.Errorf("s2s: write to %s: %w", l.remote, err)
	}
	return nil
}

// close ends the stream and the connection.
func (l *link) close() {
	l.unwatch()
	l.write([]byte(stream.Close))
	l.raw.Close()
}

// streamErrorCondition returns the condition of a <stream:error/> element.
func streamErrorCondition(el *stanza.Stanza) string {
	p, err := el.Payload()
	if err != nil {
		return "(unparsable)"
	}
	for _, e := range p.Elements() {
		if e.Name.Space == stream.NSErrors && e.Name.Local != "text" {
			return e.Name.Local
		}
	}
	return "(none)"
}
