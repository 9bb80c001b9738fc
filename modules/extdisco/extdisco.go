// Package extdisco implements External Service Discovery (XEP-0215): it
// lists for the server's own accounts the STUN and TURN servers to use for
// audio and video calls, as configured in [[external_service]] entries.
// For a TURN server that shares a secret with Tern it issues time-limited
// credentials by the TURN REST scheme that coturn implements as
// use-auth-secret. Accounts of other servers and components are refused.
package extdisco

import (
	"context"
	"time"

	"mellium.im/xmpp/jid"

	"tern/config"
	"tern/modules"
	"tern/router"
	"tern/stanza"
)

// NS is the XEP-0215 namespace.
const NS = "urn:xmpp:extdisco:2"

func init() {
	modules.Register(modules.Module{Name: "extdisco", New: start})
}

type service struct {
	host     router.Host
	services []config.ExternalService
	now      func() time.Time
}

// start registers the handler when at least one service is configured.
// Without any, the server neither advertises nor handles the protocol.
func start(env *modules.Env) error {
	if len(env.Config.ExternalServices) == 0 {
		return nil
	}
	s := &service{host: env.Host, now: time.Now}
	for _, svc := range env.Config.ExternalServices {
		s.services = append(s.services, svc.WithDefaults())
	}
	env.Host.HandleIQ(router.ScopeServer, NS, s.handle)
	env.Host.AddFeature(router.ScopeServer, NS)
	return nil
}

func (s *service) handle(_ context.Context, iq *stanza.Stanza, el *stanza.Element) (*stanza.Stanza, error) {
	if iq.Type != "get" {
		return nil, stanza.BadRequest.WithText("external services are requested with an iq of type get")
	}
	if !s.isLocalAccount(iq.From) {
		return nil, stanza.Forbidden.WithText("external services are listed for accounts of this server only")
	}
	user := iq.From.Bare()
	switch el.Name.Local {
	case "services":
		return stanza.Result(iq, s.list(user, el.AttrValue("type"))), nil
	case "credentials":
		res, err := s.credentials(user, el)
		if err != nil {
			return nil, err
		}
		return stanza.Result(iq, res), nil
	}
	return nil, stanza.BadRequest.WithText("expected <services/> or <credentials/>")
}

// isLocalAccount reports whether from is an account of a local domain.
// Client sessions stamp their own JID, and component and server streams
// may only send from their own domains, so such an address was
// authenticated.
func (s *service) isLocalAccount(from jid.JID) bool {
	return from.Localpart() != "" && s.host.IsLocal(from.Domainpart())
}

// list returns the <services/> result: every service, or those of type
// typ when it is not empty (XEP-0215 §3.2).
func (s *service) list(user jid.JID, typ string) *stanza.Element {
	res := stanza.NewElement(NS, "services")
	if typ != "" {
		res.SetAttr("type", typ)
	}
	now := s.now()
	for _, svc := range s.services {
		if typ == "" || svc.Type == typ {
			res.Add(serviceElement(svc, user, now))
		}
	}
	return res
}
