// Package certs provides the TLS certificates of Tern's listeners.
//
// A Manager holds one certificate per served domain: loaded from PEM files
// where the configuration names them, otherwise a self-signed certificate
// that the Manager creates on first start and reuses afterwards. Its
// tls.Config chooses the certificate by the client's SNI server name and
// offers the XMPP ALPN protocols of XEP-0368.
package certs

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"golang.org/x/net/idna"
)

// ALPN protocol names for XMPP over direct TLS (XEP-0368).
const (
	ALPNClient = "xmpp-client"
	ALPNServer = "xmpp-server"
)

// FilePair names the PEM files of one domain's certificate.
type FilePair struct {
	// CertFile is the path of the certificate chain, leaf first.
	CertFile string
	// KeyFile is the path of the private key (PKCS #1, PKCS #8 or SEC 1).
	KeyFile string
}

// Manager provides the certificate of every served domain. Its methods are
// safe for concurrent use, including Reload while handshakes run.
type Manager struct {
	dir     string
	domains []string            // normalised names, in the order given
	files   map[string]FilePair // by normalised name
	current atomic.Pointer[certSet]
}

// certSet is one consistent set of certificates, replaced whole by Reload.
type certSet struct {
	byName map[string]*tls.Certificate
	first  *tls.Certificate
}

// NewManager loads the certificate files for the domains that have an entry
// in files. For each other domain it uses a self-signed certificate in dir:
// an ECDSA P-256 key and a certificate for the domain and *.domain, valid
// for 10 years, stored as <domain>.crt and <domain>.key (mode 0600). It
// creates that pair when it is missing, cannot be parsed, does not cover
// the domain or expires within 30 days, and reuses it otherwise. The first
// domain's certificate is served to clients whose server name matches no
// domain.
//
// Domains may be given in Unicode or ASCII (A-label) form, or as IP
// addresses; every key of files must be one of domains.
func NewManager(dir string, domains []string, files map[string]FilePair) (*Manager, error) {
	if len(domains) == 0 {
		return nil, errors.New("certs: no domains")
	}
	m := &Manager{dir: dir, files: map[string]FilePair{}}
	seen := map[string]bool{}
	for _, d := range domains {
		name, err := normalize(d)
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("certs: domain %q given twice", d)
		}
		seen[name] = true
		m.domains = append(m.domains, name)
	}
	for d, pair := range files {
		name, err := normalize(d)
		if err != nil {
			return nil, err
		}
		if !seen[name] {
			return nil, fmt.Errorf("certs: certificate files for %q, which is not in the domain list", d)
		}
		m.files[name] = pair
	}
	if err := m.Reload(); err != nil {
		return nil, err
	}
	return m, nil
}

// Reload reads every certificate again: the configured files, and the
// self-signed certificates in the directory, creating any that are missing
// or no longer usable. On error the certificates in use stay unchanged.
func (m *Manager) Reload() error {
	set := &certSet{byName: make(map[string]*tls.Certificate, len(m.domains))}
	for _, name := range m.domains {
		cert, err := m.load(name)
		if err != nil {
			return err
		}
		set.byName[name] = cert
		if set.first == nil {
			set.first = cert
		}
	}
	m.current.Store(set)
	return nil
}

func (m *Manager) load(name string) (*tls.Certificate, error) {
	pair, ok := m.files[name]
	if !ok {
		return loadOrCreate(m.dir, name)
	}
	cert, err := tls.LoadX509KeyPair(pair.CertFile, pair.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("certs: load certificate for %s from %s and %s: %w",
			name, pair.CertFile, pair.KeyFile, err)
	}
	return &cert, nil
}

// TLSConfig returns a new server configuration that accepts TLS versions
// from minVersion (a crypto/tls constant such as tls.VersionTLS12) up,
// chooses certificates as GetCertificate does and offers the ALPN
// protocols xmpp-client and xmpp-server. As crypto/tls does, the handshake
// fails for a client that offers ALPN protocols but neither of these, so a
// caller serving HTTPS with it must set its own NextProtos.
func (m *Manager) TLSConfig(minVersion uint16) *tls.Config {
	return &tls.Config{
		MinVersion:     minVersion,
		GetCertificate: m.GetCertificate,
		NextProtos:     []string{ALPNClient, ALPNServer},
	}
}

// GetCertificate implements tls.Config.GetCertificate. It returns the
// certificate of the domain named by SNI, else that of its parent domain
// (a self-signed certificate also covers *.domain), else the certificate
// of the first domain. It never returns an error.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	set := m.current.Load()
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if cert := set.lookup(name); cert != nil {
		return cert, nil
	}
	return set.first, nil
}

// Certificate returns the certificate for domain, or for its parent domain
// when domain is a direct subdomain of a served domain, or nil when there
// is neither. Use it, for example, as the client certificate of outgoing
// server-to-server connections.
func (m *Manager) Certificate(domain string) *tls.Certificate {
	name, err := normalize(domain)
	if err != nil {
		return nil
	}
	return m.current.Load().lookup(name)
}

func (s *certSet) lookup(name string) *tls.Certificate {
	if cert, ok := s.byName[name]; ok {
		return cert
	}
	if i := strings.IndexByte(name, '.'); i >= 0 && net.ParseIP(name) == nil {
		return s.byName[name[i+1:]]
	}
	return nil
}

// normalize returns the lower-case ASCII form of a domain, as it appears
// in SNI and certificate names, or an IP address without brackets.
func normalize(domain string) (string, error) {
	d := strings.TrimSuffix(domain, ".")
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(d, "["), "]")); ip != nil {
		return ip.String(), nil
	}
	name, err := idna.Lookup.ToASCII(d)
	if err != nil || name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("certs: %q is not a valid domain name", domain)
	}
	return strings.ToLower(name), nil
}
