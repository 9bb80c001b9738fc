package config

import (
	"fmt"
	"net"
	"time"
)

// ExternalService is one [[external_service]] entry: a STUN or TURN
// server that clients discover through External Service Discovery
// (XEP-0215) for audio and video calls.
type ExternalService struct {
	// Type is "stun", "stuns", "turn" or "turns" (the last two over TLS).
	Type string `toml:"type"`
	// Host is the DNS name or IP address clients connect to.
	Host string `toml:"host"`
	// Port is the service's port. WithDefaults sets zero to 3478 for stun
	// and turn, and to 5349 for stuns and turns.
	Port int `toml:"port"`
	// Transport is "udp" or "tcp". WithDefaults sets an empty value to
	// "udp" for stun and turn, and to "tcp" for stuns and turns.
	Transport string `toml:"transport"`
	// Restricted marks the service as needing credentials. An entry with
	// a Secret is always announced as restricted.
	Restricted bool `toml:"restricted"`
	// Secret is the shared secret of the TURN REST scheme that coturn
	// implements as use-auth-secret: the server hands out a username with
	// an expiry time and an HMAC-SHA1 of it as password. It applies to
	// turn and turns only, and an empty Secret hands out no credentials.
	Secret string `toml:"secret" tern:"secret"`
	// TTL is how long the credentials handed out stay valid. WithDefaults
	// sets zero to DefaultCredentialTTL.
	TTL time.Duration `toml:"ttl"`
}

// DefaultCredentialTTL is the lifetime of TURN credentials when an
// [[external_service]] entry gives no ttl.
const DefaultCredentialTTL = 24 * time.Hour

// Default ports of STUN and TURN, the same for both (RFC 8489, RFC 8656).
const (
	portSTUN    = 3478
	portSTUNTLS = 5349
)

func (v *validator) externalServices(list []ExternalService) {
	seen := map[string]int{}
	for i := range list {
		s := &list[i]
		key := fmt.Sprintf("external_service[%d]", i)
		v.oneOf(key+".type", s.Type, "stun", "stuns", "turn", "turns")
		v.externalHost(key+".host", s)
		v.externalDefaults(key, s)
		if s.Secret != "" && (s.Type == "stun" || s.Type == "stuns") {
			v.add(key+".secret", "applies only to type \"turn\" or \"turns\" (STUN needs no credentials)")
		}
		id := fmt.Sprintf("%s %s:%d/%s", s.Type, s.Host, s.Port, s.Transport)
		if first, dup := seen[id]; dup {
			v.add(key, "lists the same service as external_service[%d] (%s)", first, id)
		}
		seen[id] = i
	}
}

// externalHost checks the host and rewrites a DNS name to its normalised
// form.
func (v *validator) externalHost(key string, s *ExternalService) {
	if s.Host == "" {
		v.add(key, "required: the DNS name or IP address of the service")
		return
	}
	if net.ParseIP(s.Host) != nil {
		return
	}
	norm, err := normalizeDomain(s.Host)
	if err != nil {
		v.add(key, "%q %v (use a DNS name or an IP address)", s.Host, err)
		return
	}
	s.Host = norm
}

// WithDefaults returns s with the defaults filled in for a zero Port, an
// empty Transport and a zero TTL. Validate applies it to every entry, and
// code that builds a Config without Validate calls it itself.
func (s ExternalService) WithDefaults() ExternalService {
	tls := s.Type == "stuns" || s.Type == "turns"
	switch {
	case s.Port == 0 && tls:
		s.Port = portSTUNTLS
	case s.Port == 0:
		s.Port = portSTUN
	}
	switch {
	case s.Transport == "" && tls:
		s.Transport = "tcp"
	case s.Transport == "":
		s.Transport = "udp"
	}
	if s.TTL == 0 {
		s.TTL = DefaultCredentialTTL
	}
	return s
}

// externalDefaults fills in the defaults an entry left out and checks the
// values it gives.
func (v *validator) externalDefaults(key string, s *ExternalService) {
	*s = s.WithDefaults()
	if s.Port < 0 || s.Port > 65535 {
		v.add(key+".port", "%d is not a port number (1 to 65535)", s.Port)
	}
	v.oneOf(key+".transport", s.Transport, "udp", "tcp")
	if s.TTL < 0 {
		v.add(key+".ttl", "%q must not be negative", s.TTL.String())
	}
}
