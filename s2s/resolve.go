package s2s

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// defaultPort is the server port when a domain has no SRV records
// (RFC 6120 §3.2.2).
const defaultPort = 5269

// target is one address to try for a remote domain.
type target struct {
	addr      string
	directTLS bool // XEP-0368: TLS starts at once, no STARTTLS
	priority  uint16
}

// errNoService is returned for a domain whose only SRV record has the
// target "." (RFC 2782: the service is decidedly not available).
var errNoService = errors.New("s2s: the domain offers no XMPP server service")

// resolve returns the addresses to try for domain, in order. The address
// set with SetAddr comes first and alone. Otherwise they are the targets of
// the _xmpps-server._tcp and _xmpp-server._tcp SRV records merged by
// priority, with direct TLS first among equal priorities. A domain with
// neither record is tried on port 5269.
func (s *Server) resolve(ctx context.Context, domain string) ([]target, error) {
	s.mu.Lock()
	addr, ok := s.addrs[domain]
	s.mu.Unlock()
	if ok {
		return []target{{addr: addr}}, nil
	}
	name, err := idna.Lookup.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return nil, fmt.Errorf("s2s: invalid domain %q: %w", domain, err)
	}
	tlsTargets, tlsErr := s.lookupTargets(ctx, "xmpps-server", name, true)
	tcpTargets, tcpErr := s.lookupTargets(ctx, "xmpp-server", name, false)
	targets := mergeTargets(tlsTargets, tcpTargets)
	if len(targets) > 0 {
		return targets, nil
	}
	for _, err := range []error{tcpErr, tlsErr} {
		if err != nil && !errors.Is(err, errNoService) && !isNotFound(err) {
			return nil, fmt.Errorf("s2s: look up SRV records of %s: %w", name, err)
		}
	}
	if errors.Is(tcpErr, errNoService) {
		return nil, fmt.Errorf("s2s: %s: %w", name, errNoService)
	}
	return []target{{addr: net.JoinHostPort(name, strconv.Itoa(defaultPort))}}, nil
}

// lookupTargets returns the targets of one SRV service, in the order of
// net.Resolver.LookupSRV (by priority, randomized by weight).
func (s *Server) lookupTargets(ctx context.Context, service, name string, directTLS bool) ([]target, error) {
	_, records, err := s.lookupSRV(ctx, service, "tcp", name)
	if err != nil {
		return nil, err
	}
	if len(records) == 1 && (records[0].Target == "." || records[0].Target == "") {
		return nil, errNoService
	}
	out := make([]target, 0, len(records))
	for _, r := range records {
		host := strings.TrimSuffix(r.Target, ".")
		if host == "" {
			continue
		}
		out = append(out, target{
			addr:      net.JoinHostPort(host, strconv.Itoa(int(r.Port))),
			directTLS: directTLS,
			priority:  r.Priority,
		})
	}
	return out, nil
}

// mergeTargets merges two ordered target lists by priority, keeping each
// list's own order and putting direct TLS first among equal priorities
// (XEP-0368).
func mergeTargets(tlsTargets, tcpTargets []target) []target {
	out := append(append([]target(nil), tlsTargets...), tcpTargets...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].priority < out[j].priority })
	return out
}

func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}
