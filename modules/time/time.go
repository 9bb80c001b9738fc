// Package time handles Entity Time requests (XEP-0202) addressed to the
// server. The server reports UTC with a zero offset whatever the host's
// time zone, so that its location is not disclosed.
package time

import (
	"context"
	"time"

	"tern/modules"
	"tern/router"
	"tern/stanza"
)

// NS is the XEP-0202 namespace.
const NS = "urn:xmpp:time"

// utcLayout is the XEP-0082 DateTime profile in UTC, with milliseconds.
const utcLayout = "2006-01-02T15:04:05.000Z"

func init() {
	modules.Register(modules.Module{Name: "time", New: start})
}

func start(env *modules.Env) error {
	env.Host.HandleIQ(router.ScopeServer, NS, answer)
	env.Host.AddFeature(router.ScopeServer, NS)
	return nil
}

func answer(_ context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if iq.Type != "get" {
		return nil, stanza.NotAllowed.WithText("only get is defined for entity time")
	}
	if q.Name.Local != "time" {
		return nil, stanza.BadRequest
	}
	return stanza.Result(iq, timeElement(time.Now())), nil
}

// timeElement returns the <time/> element for t.
func timeElement(t time.Time) *stanza.Element {
	return stanza.NewElement(NS, "time").Add(
		stanza.NewElement(NS, "tzo").AddText("+00:00"),
		stanza.NewElement(NS, "utc").AddText(t.UTC().Format(utcLayout)),
	)
}
