package adhoc

import (
	"context"

	"mellium.im/xmpp/jid"

	"tern/modules/disco"
	"tern/router"
	"tern/stanza"
)

// Service discovery of commands (XEP-0050 §3.2 and §3.3): the node NS
// lists the commands the requester may run, and each command node
// describes one command.

// registerListNode registers the disco handler of the node NS.
func registerListNode(h router.Host, r *registry) {
	disco.HandleNode(h, router.ScopeServer, NS, func(_ context.Context, requester, target jid.JID) (disco.Node, error) {
		n := disco.Node{
			Identities: []router.Identity{{Category: "automation", Type: "command-list", Name: "Commands"}},
		}
		for _, c := range r.visible(requester) {
			n.Items = append(n.Items, disco.Item{JID: target.String(), Node: c.Node, Name: c.Name})
		}
		return n, nil
	})
}

// registerCommandNode registers the disco handler of the node of c. A
// requester that may not run the command gets forbidden, as XEP-0050 §3.3
// recommends.
func registerCommandNode(h router.Host, c *Command) {
	disco.HandleNode(h, router.ScopeServer, c.Node, func(_ context.Context, requester, _ jid.JID) (disco.Node, error) {
		if !c.allows(requester) {
			return disco.Node{}, stanza.Forbidden
		}
		return disco.Node{
			Identities: []router.Identity{{Category: "automation", Type: "command-node", Name: c.Name}},
			Features:   []string{NS, NSData},
		}, nil
	})
}
