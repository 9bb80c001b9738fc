// Package ping answers XMPP Ping requests (XEP-0199) addressed to the
// server or, on the account's behalf, to an account's bare JID.
package ping

import (
	"context"

	"tern/modules"
	"tern/router"
	"tern/stanza"
)

// NS is the XEP-0199 namespace.
const NS = "urn:xmpp:ping"

func init() {
	modules.Register(modules.Module{Name: "ping", New: start})
}

func start(env *modules.Env) error {
	h := env.Host
	h.HandleIQ(router.ScopeServer, NS, pong)
	h.HandleIQ(router.ScopeAccount, NS, pong)
	h.AddFeature(router.ScopeServer, NS)
	return nil
}

func pong(_ context.Context, iq *stanza.Stanza, _ *stanza.Element) (*stanza.Stanza, error) {
	if iq.Type != "get" {
		return nil, stanza.BadRequest
	}
	return stanza.Result(iq), nil
}
