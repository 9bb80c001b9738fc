// Package version handles Software Version requests (XEP-0092) addressed
// to the server. The response carries the name "Tern" and the version the
// binary was built as, and leaves out the operating system, which would
// help attackers more than users.
package version

import (
	"context"

	"tern/modules"
	"tern/router"
	"tern/stanza"
)

// NS is the XEP-0092 namespace.
const NS = "jabber:iq:version"

// Version is the version the server reports. Release builds set it with
// -ldflags "-X tern/modules/version.Version=1.2.3".
var Version = "dev"

// Name is the software name the server reports.
const Name = "Tern"

func init() {
	modules.Register(modules.Module{Name: "version", New: start})
}

func start(env *modules.Env) error {
	env.Host.HandleIQ(router.ScopeServer, NS, answer)
	env.Host.AddFeature(router.ScopeServer, NS)
	return nil
}

func answer(_ context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if iq.Type != "get" {
		return nil, stanza.NotAllowed.WithText("only get is defined for software version")
	}
	if q.Name.Local != "query" {
		return nil, stanza.BadRequest
	}
	res := stanza.NewElement(NS, "query").Add(
		stanza.NewElement(NS, "name").AddText(Name),
		stanza.NewElement(NS, "version").AddText(Version),
	)
	return stanza.Result(iq, res), nil
}
