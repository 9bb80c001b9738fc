package c2s

import (
	"strings"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// maxPart is the longest localpart, domainpart or resourcepart in bytes
// (RFC 7622 §3).
const maxPart = 1023

// parseAddress parses an address a client sent in 'to' or 'from', with
// the result of stanza.ParseJID. An address already in the form that RFC
// 7622's preparation and enforcement produce (ASCII, lowercase, no
// A-labels) is built without running them, which saves most of the CPU
// that routing a message costs; FuzzParseAddress checks that both paths
// agree.
func parseAddress(s string) (jid.JID, error) {
	if j, ok := parseNormalized(s); ok {
		return j, nil
	}
	return stanza.ParseJID(s)
}

// parseNormalized builds the JID for s when every part of s is left
// unchanged by normalization; ok is false otherwise, and for every
// address that ParseJID would reject.
func parseNormalized(s string) (j jid.JID, ok bool) {
	rest, resource, hasResource := strings.Cut(s, "/")
	if hasResource && !normalizedResource(resource) {
		return jid.JID{}, false
	}
	local, domain, hasLocal := strings.Cut(rest, "@")
	if !hasLocal {
		local, domain = "", rest
	} else if !normalizedLocal(local) {
		return jid.JID{}, false
	}
	if !normalizedDomain(domain) {
		return jid.JID{}, false
	}
	return jid.NewUnsafe(local, domain, resource).JID, true
}

// normalizedLocal reports whether the UsernameCaseMapped profile of RFC
// 8265 leaves the localpart l unchanged and RFC 7622 §3.3.1 allows it:
// printable ASCII without uppercase letters, spaces and "&'/:<>@.
func normalizedLocal(l string) bool {
	if l == "" || len(l) > maxPart {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c <= ' ' || c > '~' || 'A' <= c && c <= 'Z' || strings.IndexByte(`"&'/:<>@`, c) >= 0 {
			return false
		}
	}
	return true
}

// normalizedResource reports whether the OpaqueString profile of RFC
// 8265 leaves the resourcepart r unchanged: non-empty printable ASCII
// without spaces.
func normalizedResource(r string) bool {
	if r == "" || len(r) > maxPart {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// normalizedDomain reports whether d is a host name that IDNA mapping
// leaves unchanged and that ParseJID accepts: lowercase LDH labels, none
// empty, none starting or ending with '-', none with "--" in the third
// and fourth positions (so no A-labels), and no trailing dot.
func normalizedDomain(d string) bool {
	if d == "" || len(d) > maxPart {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if !normalizedLabel(label) {
			return false
		}
	}
	return true
}

func normalizedLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' || len(l) >= 4 && l[2:4] == "--" {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
