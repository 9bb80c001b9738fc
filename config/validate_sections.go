package config

import (
	"fmt"
	"net"
	"path"
	"strings"
)

func (v *validator) c2s(c *C2S) {
	v.addresses("c2s.listen", c.Listen)
	v.addresses("c2s.direct_tls_listen", c.DirectTLSListen)
	if c.MaxStanzaSize < MinStanzaSize {
		v.add("c2s.max_stanza_size", "%d is less than %d bytes, the smallest limit RFC 6120 allows",
			c.MaxStanzaSize, MinStanzaSize)
	}
	switch {
	case c.MaxStanzaSizeBeforeAuth < MinStanzaSizeBeforeAuth:
		v.add("c2s.max_stanza_size_before_auth", "%d is less than %d bytes",
			c.MaxStanzaSizeBeforeAuth, MinStanzaSizeBeforeAuth)
	case c.MaxStanzaSizeBeforeAuth > c.MaxStanzaSize:
		v.add("c2s.max_stanza_size_before_auth", "%d is more than c2s.max_stanza_size (%d)",
			c.MaxStanzaSizeBeforeAuth, c.MaxStanzaSize)
	}
	v.atLeast("c2s.max_element_depth", c.MaxElementDepth, MinElementDepth)
	v.positive("c2s.auth_timeout", c.AuthTimeout)
	v.notNegative("c2s.keepalive_interval", c.KeepaliveInterval)
	v.positive("c2s.ping_timeout", c.PingTimeout)
	v.atLeast("c2s.send_queue", c.SendQueue, 1)
	v.notNegative("c2s.resume_timeout", c.ResumeTimeout)
	v.atLeast("c2s.max_unacked", c.MaxUnacked, 1)
}

func (v *validator) auth(a *Auth) {
	v.atLeast("auth.scram_iterations", a.SCRAMIterations, 1)
	v.scramHashes(a.SCRAMHashes)
	v.atLeast("auth.max_failures_per_ip", a.MaxFailuresPerIP, 0)
	v.atLeast("auth.max_failures_per_account", a.MaxFailuresPerAccount, 0)
	v.positive("auth.failure_window", a.FailureWindow)
}

// SCRAMHashNames returns the values auth.scram_hashes accepts, which is
// also its default. They are the hash names that package c2s/sasl uses.
func SCRAMHashNames() []string { return []string{"SHA-1", "SHA-256", "SHA-512"} }

func (v *validator) scramHashes(hashes []string) {
	const key = "auth.scram_hashes"
	if len(hashes) == 0 {
		v.add(key, "at least one hash family is required (choose from %s)", quoteAll(SCRAMHashNames()))
		return
	}
	seen := map[string]bool{}
	for i, h := range hashes {
		elementKey := fmt.Sprintf("%s[%d]", key, i)
		if seen[h] {
			v.add(elementKey, "%q is listed twice", h)
			continue
		}
		seen[h] = true
		v.oneOf(elementKey, h, SCRAMHashNames()...)
	}
}

func (v *validator) registration(r *Registration) {
	v.atLeast("registration.min_password_length", r.MinPasswordLength, 1)
	v.atLeast("registration.rate_per_ip", r.RatePerIP, 0)
	v.positive("registration.rate_window", r.RateWindow)
}

func (v *validator) archive(c *Config) {
	a := &c.Archive
	if a.Retention < 0 {
		v.add("archive.retention", "%q must not be negative (use \"0\" to keep messages forever)", a.Retention.String())
	}
	v.oneOf("archive.default_mode", a.DefaultMode, "always", "roster", "never")
	v.atLeast("archive.max_page", a.MaxPage, 1)
	if c.C2S.SendQueue >= 1 && a.MaxPage > c.C2S.SendQueue {
		// A query queues its whole page for the client at once. An invalid
		// send_queue has its own error.
		v.add("archive.max_page", "%d is more than c2s.send_queue (%d), so a full page would overflow a session's queue",
			a.MaxPage, c.C2S.SendQueue)
	}
}

func (v *validator) s2s(s *S2S) {
	v.addresses("s2s.listen", s.Listen)
	v.addresses("s2s.direct_tls_listen", s.DirectTLSListen)
}

func (v *validator) http(h *HTTP) {
	if h.Listen != "" {
		v.address("http.listen", h.Listen)
	}
	if h.AdminToken != "" && len(h.AdminToken) < MinAdminTokenLength {
		// The token itself is a secret and stays out of the message.
		v.add("http.admin_token", "is %d characters long; use at least %d, or leave it empty to disable the admin API",
			len(h.AdminToken), MinAdminTokenLength)
	}
	for i, p := range h.WebSocketAllowedOrigins {
		key := fmt.Sprintf("http.websocket_allowed_origins[%d]", i)
		if p == "" {
			v.add(key, "must not be empty (use a host pattern such as \"*.example.com\")")
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			v.add(key, "%q is not a valid pattern: %v", p, err)
		}
	}
}

func (v *validator) modules(m *Modules) {
	for i, name := range m.Disabled {
		if !KnownModules[name] {
			v.add(fmt.Sprintf("modules.disabled[%d]", i), "%q is not a known module (known: %s)",
				name, joinNames(knownModuleNames()))
		}
	}
}

func (v *validator) addresses(key string, addrs []string) {
	for i, a := range addrs {
		v.address(fmt.Sprintf("%s[%d]", key, i), a)
	}
}

// uniqueListeners reports a listen address used by two listeners. Port 0
// is exempt because each listener then gets its own free port.
func (v *validator) uniqueListeners(c *Config) {
	var keys, addrs []string
	addList := func(key string, list []string) {
		for i, a := range list {
			keys = append(keys, fmt.Sprintf("%s[%d]", key, i))
			addrs = append(addrs, a)
		}
	}
	addOne := func(key, addr string) {
		if addr != "" {
			keys = append(keys, key)
			addrs = append(addrs, addr)
		}
	}
	addList("c2s.listen", c.C2S.Listen)
	addList("c2s.direct_tls_listen", c.C2S.DirectTLSListen)
	addList("s2s.listen", c.S2S.Listen)
	addList("s2s.direct_tls_listen", c.S2S.DirectTLSListen)
	addOne("component.listen", c.Component.Listen)
	addOne("http.listen", c.HTTP.Listen)

	used := map[string]string{}
	for i, a := range addrs {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "0" {
			continue
		}
		if first, dup := used[a]; dup {
			v.add(keys[i], "%q is already used by %s", a, first)
			continue
		}
		used[a] = keys[i]
	}
}

func joinNames(names []string) string {
	return strings.Join(names, ", ")
}
