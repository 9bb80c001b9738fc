package s2s

import (
	"crypto/x509"
	"strings"
	"sync"

	"golang.org/x/net/idna"
)

// trustStore decides whether a peer's certificate chain proves a domain:
// the chain must lead to a root in the system pool or in the extra pool
// that TrustRoots adds, and the leaf must name the domain (RFC 6125
// DNS-ID, wildcards included).
type trustStore struct {
	mu    sync.RWMutex
	extra *x509.CertPool // guarded by mu
}

// TrustRoots adds pool to the roots that peer certificates may chain to,
// on top of the system roots. Tests use it to make a self-signed peer
// certificate verify; a nil pool removes the extra roots again.
func (s *Server) TrustRoots(pool *x509.CertPool) {
	s.roots.mu.Lock()
	s.roots.extra = pool
	s.roots.mu.Unlock()
}

// verify reports whether chain (leaf first) verifies for domain.
func (t *trustStore) verify(chain []*x509.Certificate, domain string) bool {
	if len(chain) == 0 || domain == "" {
		return false
	}
	name, err := idna.Lookup.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return false
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		DNSName:       name,
		Intermediates: inter,
		// A server certificate often lacks the clientAuth usage even
		// though servers present it on the streams they open.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if _, err := chain[0].Verify(opts); err == nil {
		return true
	}
	t.mu.RLock()
	opts.Roots = t.extra
	t.mu.RUnlock()
	if opts.Roots == nil {
		return false
	}
	_, err = chain[0].Verify(opts)
	return err == nil
}

// ownCertVerifies reports whether the certificate presented for the local
// domain would verify at a peer that trusts the same roots as this server,
// which is the condition for trying SASL EXTERNAL on an outgoing stream.
func (s *Server) ownCertVerifies(local string) bool {
	cert := s.certs.Certificate(local)
	if cert == nil || len(cert.Certificate) == 0 {
		return false
	}
	chain := make([]*x509.Certificate, 0, len(cert.Certificate))
	for _, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return false
		}
		chain = append(chain, c)
	}
	return s.roots.verify(chain, local)
}
