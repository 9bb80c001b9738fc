package admin

import (
	"fmt"
	"strings"

	"golang.org/x/text/secure/precis"
	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// parseJID parses raw as a JID. For an invalid one it returns an
// ErrInvalidJID error that describes the problem in words a user can act
// on, instead of the parser's own message.
func parseJID(raw string) (jid.JID, error) {
	j, err := stanza.ParseJID(raw)
	if err != nil {
		return jid.JID{}, fmt.Errorf("%w %q: %s", ErrInvalidJID, raw, jidProblem(raw))
	}
	return j, nil
}

// jidProblem describes why raw is not a valid JID (RFC 7622).
func jidProblem(raw string) string {
	rest, resource, hasResource := strings.Cut(raw, "/")
	local, domain, hasLocal := strings.Cut(rest, "@")
	if !hasLocal {
		local, domain = "", rest
	}
	switch {
	case raw == "":
		return "the JID is empty"
	case hasLocal && local == "":
		return "the localpart before '@' is empty"
	case domain == "":
		return "the domain is empty"
	case hasResource && resource == "":
		return "the resource after '/' is empty"
	}
	if i := strings.IndexAny(local, "\"&':<>"); i >= 0 {
		return fmt.Sprintf("the localpart contains %q, which JIDs do not allow there", local[i])
	}
	if r, ok := disallowedRune(precis.UsernameCaseMapped, local); ok {
		return fmt.Sprintf("the localpart contains %q (U+%04X), which JIDs do not allow there", r, r)
	}
	if r, ok := disallowedRune(precis.OpaqueString, resource); ok {
		return fmt.Sprintf("the resource contains %q (U+%04X), which JIDs do not allow there", r, r)
	}
	for _, part := range []string{local, domain, resource} {
		if len(part) > 1023 {
			return "a part of the JID is longer than 1023 bytes"
		}
	}
	return fmt.Sprintf("%q is not a valid domain name", domain)
}

// disallowedRune returns the first rune of s that profile rejects on its
// own.
func disallowedRune(profile *precis.Profile, s string) (rune, bool) {
	for _, r := range s {
		if _, err := profile.String(string(r)); err != nil {
			return r, true
		}
	}
	return 0, false
}
