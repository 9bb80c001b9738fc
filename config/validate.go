package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmpp/jid"
)

// Limits that Validate enforces.
const (
	// MinStanzaSize is the smallest c2s.max_stanza_size. RFC 6120 §13.12
	// requires a deployed server's maximum stanza size to be at least
	// 10000 bytes.
	MinStanzaSize ByteSize = 10000
	// MinStanzaSizeBeforeAuth is the smallest max_stanza_size_before_auth,
	// leaving room for SASL messages that carry channel binding data.
	MinStanzaSizeBeforeAuth ByteSize = 1 * KiB
	// MinElementDepth is the smallest c2s.max_element_depth. A PEP publish
	// of an OMEMO bundle already nests 7 elements inside the stream.
	MinElementDepth = 8
	// MinAdminTokenLength is the shortest http.admin_token accepted.
	MinAdminTokenLength = 16
)

// Validate checks every rule of the schema and returns an Errors value with
// all problems found, or nil. It also rewrites domains and JIDs to their
// normalised form (RFC 7622), so that later code can compare them byte for
// byte. Certificate files are checked for existence on disk.
func (c *Config) Validate() error {
	v := &validator{}
	v.server(&c.Server)
	v.storage(&c.Storage)
	v.component(&c.Component, c.Server.Domains)
	v.tls(c)
	v.c2s(&c.C2S)
	v.auth(&c.Auth)
	v.registration(&c.Registration)
	v.atLeast("offline.max_messages", c.Offline.MaxMessages, 0)
	v.multicast(&c.Multicast)
	v.archive(c)
	v.s2s(&c.S2S)
	v.http(&c.HTTP)
	v.muc(c)
	v.push(&c.Push)
	v.upload(c)
	v.externalServices(c.ExternalServices)
	v.modules(&c.Modules)
	v.uniqueListeners(c)
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

type validator struct {
	errs Errors
}

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{Key: key, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) oneOf(key, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.add(key, "%q is not one of %s", value, quoteAll(allowed))
}

// quoteAll returns the values quoted and joined with commas.
func quoteAll(values []string) string {
	quoted := make([]string, len(values))
	for i, a := range values {
		quoted[i] = strconv.Quote(a)
	}
	return strings.Join(quoted, ", ")
}

func (v *validator) atLeast(key string, value, min int) {
	if value < min {
		v.add(key, "%d is less than %d", value, min)
	}
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, "%q must be longer than zero", d.String())
	}
}

func (v *validator) notNegative(key string, d time.Duration) {
	if d < 0 {
		v.add(key, "%q must not be negative (use \"0s\" to disable)", d.String())
	}
}

func (v *validator) server(s *Server) {
	if len(s.Domains) == 0 {
		v.add("server.domains", "at least one domain is required")
	}
	seen := map[string]string{}
	for i, d := range s.Domains {
		key := fmt.Sprintf("server.domains[%d]", i)
		norm, err := normalizeDomain(d)
		if err != nil {
			v.add(key, "%q %v", d, err)
			continue
		}
		if first, dup := seen[norm]; dup {
			v.add(key, "%q is the same domain as %q", d, first)
		}
		seen[norm] = d
		s.Domains[i] = norm
	}
	if s.DataDir == "" {
		v.add("server.data_dir", "must not be empty (use \".\" for the working directory)")
	}
	for i, a := range s.Admins {
		norm, err := normalizeAccount(a)
		if err != nil {
			v.add(fmt.Sprintf("server.admins[%d]", i), "%q %v", a, err)
			continue
		}
		s.Admins[i] = norm
	}
	v.oneOf("server.log_level", s.LogLevel, "debug", "info", "warn", "error")
	v.oneOf("server.log_format", s.LogFormat, "text", "json")
	v.positive("server.shutdown_timeout", s.ShutdownTimeout)
}

func (v *validator) storage(s *Storage) {
	v.oneOf("storage.backend", s.Backend, "sqlite", "postgres")
	switch s.Backend {
	case "sqlite":
		if s.SQLiteFile == "" {
			v.add("storage.sqlite_file", "required when storage.backend is \"sqlite\"")
		}
	case "postgres":
		if s.PostgresDSN == "" {
			v.add("storage.postgres_dsn", "required when storage.backend is \"postgres\" (such as \"postgres://tern@localhost/tern\")")
		}
	}
}

func (v *validator) component(c *Component, serverDomains []string) {
	if c.Listen != "" {
		v.address("component.listen", c.Listen)
	}
	seen := map[string]bool{}
	for _, d := range serverDomains {
		seen[d] = true
	}
	for i := range c.Services {
		s := &c.Services[i]
		key := fmt.Sprintf("component.service[%d]", i)
		if s.Secret == "" {
			v.add(key+".secret", "required: the shared secret the component authenticates with")
		}
		if s.Domain == "" {
			v.add(key+".domain", "required")
			continue
		}
		norm, err := normalizeDomain(s.Domain)
		if err != nil {
			v.add(key+".domain", "%q %v", s.Domain, err)
			continue
		}
		if seen[norm] {
			v.add(key+".domain", "%q is already a server domain or another component's domain", s.Domain)
		}
		seen[norm] = true
		s.Domain = norm
	}
}

func (v *validator) tls(c *Config) {
	t := &c.TLS
	v.oneOf("tls.min_version", t.MinVersion, "1.2", "1.3")
	served := map[string]bool{}
	for _, d := range c.TLSDomains() {
		served[d] = true
	}
	seen := map[string]bool{}
	for i := range t.Certificates {
		cert := &t.Certificates[i]
		key := fmt.Sprintf("tls.certificate[%d]", i)
		v.certificateDomain(key+".domain", cert, served, seen)
		v.existingFile(key+".cert_file", cert.CertFile, c)
		v.existingFile(key+".key_file", cert.KeyFile, c)
	}
}

func (v *validator) certificateDomain(key string, cert *Certificate, served, seen map[string]bool) {
	if cert.Domain == "" {
		v.add(key, "required")
		return
	}
	norm, err := normalizeDomain(cert.Domain)
	if err != nil {
		v.add(key, "%q %v", cert.Domain, err)
		return
	}
	if !served[norm] {
		v.add(key, "%q is not in server.domains or a component.service domain", cert.Domain)
	}
	if seen[norm] {
		v.add(key, "%q already has a certificate", cert.Domain)
	}
	seen[norm] = true
	cert.Domain = norm
}

// existingFile checks that name, resolved with c.Path, is a readable file.
func (v *validator) existingFile(key, name string, c *Config) {
	if name == "" {
		v.add(key, "required")
		return
	}
	path := c.Path(name)
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.add(key, "%q does not exist (looked for %s)", name, path)
	case err != nil:
		v.add(key, "%q cannot be read: %v", name, err)
	case info.IsDir():
		v.add(key, "%q is a directory, not a file", name)
	}
}

// normalizeDomain returns the RFC 7622 form of a domainpart, or an error
// that completes a sentence about the value.
func normalizeDomain(s string) (string, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("is not a valid domain: %w", err)
	}
	if j.Localpart() != "" || j.Resourcepart() != "" {
		return "", errors.New("is a JID, not a domain (leave out the user@ and /resource parts)")
	}
	d := j.Domainpart()
	if strings.Contains(d, "..") || strings.HasPrefix(d, ".") {
		return "", errors.New("is not a valid domain: it has an empty label")
	}
	return d, nil
}

// normalizeAccount returns the normalised bare JID of an account, or an
// error that completes a sentence about the value.
func normalizeAccount(s string) (string, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("is not a valid JID: %w", err)
	}
	if j.Localpart() == "" {
		return "", errors.New("is not an account JID (use user@domain)")
	}
	if j.Resourcepart() != "" {
		return "", fmt.Errorf("has a resource (use the bare JID %s)", j.Bare())
	}
	if _, err := normalizeDomain(j.Domainpart()); err != nil {
		return "", err
	}
	return j.String(), nil
}

// address checks a listen address of the form host:port, where host may be
// empty (all interfaces) and port may be 0 (any free port).
func (v *validator) address(key, addr string) {
	const usage = `(use host:port, such as ":5222", "127.0.0.1:5222" or "[::1]:5222")`
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(key, "%q is not a listen address %s", addr, usage)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "%q has no valid port number (0 to 65535) %s", addr, usage)
	}
}
