package c2s

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
	"time"
)

// handshakeTimeout bounds the TLS handshake.
const handshakeTimeout = 30 * time.Second

// handshake runs the TLS handshake for STARTTLS or direct TLS.
//
// The handshake is bounded with a deadline on the socket rather than a
// context: crypto/tls keeps the handshake context, and its timer, for
// the life of the connection.
func (c *conn) handshake() error {
	c.act.records = true
	tc := tls.Server(c.nc, c.srv.connTLSConfig())
	c.raw.SetDeadline(time.Now().Add(handshakeTimeout))
	err := tc.Handshake()
	c.raw.SetDeadline(time.Time{})
	if err != nil {
		return err
	}
	st := tc.ConnectionState()
	c.tlsState = &st
	c.secure = true
	c.nc = tc
	if cert, err := c.serverCertificate(&tls.ClientHelloInfo{ServerName: st.ServerName}); err == nil && cert != nil && len(cert.Certificate) > 0 {
		c.cert = leafOf(cert)
	}
	if st.ServerName != "" && c.domain == "" {
		c.domain = st.ServerName
	}
	return nil
}

// serverCertificate chooses the certificate for a client hello: the one
// of the domain from the stream header when the client sent no server
// name (STARTTLS), otherwise what the server's configuration chooses.
func (c *conn) serverCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.ServerName == "" && c.domain != "" {
		if cert := c.srv.certs.Certificate(c.domain); cert != nil {
			return cert, nil
		}
	}
	if get := c.srv.tls.GetCertificate; get != nil {
		return get(hello)
	}
	return nil, errors.New("no certificate")
}

// connTLSConfigs maps a server's TLS configuration to the one its
// connections share, whose GetCertificate finds the connection through
// the net.Conn of the client hello. One shared configuration replaces a
// clone per connection.
var connTLSConfigs sync.Map // *tls.Config → *tls.Config

// connTLSConfig returns the TLS configuration for the server side of
// client connections.
func (s *Server) connTLSConfig() *tls.Config {
	if cfg, ok := connTLSConfigs.Load(s.tls); ok {
		return cfg.(*tls.Config)
	}
	cfg := s.tls.Clone()
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if ac, ok := hello.Conn.(*activityConn); ok {
			return ac.c.serverCertificate(hello)
		}
		if s.tls.GetCertificate != nil {
			return s.tls.GetCertificate(hello)
		}
		return nil, errors.New("no certificate")
	}
	shared, _ := connTLSConfigs.LoadOrStore(s.tls, cfg)
	return shared.(*tls.Config)
}

// leaves caches parsed certificates that lack Leaf, so that SASL channel
// binding does not parse the server's certificate on every connection.
var leaves sync.Map // *tls.Certificate → *x509.Certificate

// leafOf returns the parsed leaf certificate of cert, or nil.
func leafOf(cert *tls.Certificate) *x509.Certificate {
	if cert.Leaf != nil {
		return cert.Leaf
	}
	if leaf, ok := leaves.Load(cert); ok {
		return leaf.(*x509.Certificate)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil
	}
	leaves.Store(cert, leaf)
	return leaf
}
