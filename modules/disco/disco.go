// Package disco handles Service Discovery requests (XEP-0030). For the
// server's domains, disco#info and disco#items list the identities,
// features and items that modules registered with the host, and modules
// handle queries for nodes through HandleNode. For a local account's bare
// JID, the server responds on the account's behalf.
package disco

import (
	"context"
	"errors"
	"fmt"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// Namespaces of XEP-0030.
const (
	NSInfo  = "http://jabber.org/protocol/disco#info"
	NSItems = "http://jabber.org/protocol/disco#items"
)

func init() {
	modules.Register(modules.Module{Name: "disco", New: start})
}

// rosterReader is the part of storage the account handlers use to decide
// who may discover an account.
type rosterReader interface {
	GetRosterItem(ctx context.Context, o storage.Owner, contact string) (storage.RosterItem, error)
}

type service struct {
	host   router.Host
	roster rosterReader
}

func start(env *modules.Env) error {
	s := &service{host: env.Host, roster: env.Store}
	h := env.Host
	h.AddIdentity(router.ScopeServer, "server", "im", "Tern")
	h.AddIdentity(router.ScopeAccount, "account", "registered", "")
	for _, scope := range []router.Scope{router.ScopeServer, router.ScopeAccount} {
		h.AddFeature(scope, NSInfo)
		h.AddFeature(scope, NSItems)
	}
	h.HandleIQ(router.ScopeServer, NSInfo, s.serverInfo)
	h.HandleIQ(router.ScopeServer, NSItems, s.serverItems)
	h.HandleIQ(router.ScopeAccount, NSInfo, s.accountInfo)
	h.HandleIQ(router.ScopeAccount, NSItems, s.accountItems)
	return nil
}

func (s *service) serverInfo(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if err := checkQuery(iq, q); err != nil {
		return nil, err
	}
	if q.AttrValue("node") != "" {
		return s.nodeResponse(ctx, router.ScopeServer, iq, q, nodeInfo)
	}
	return stanza.Result(iq, infoQuery(s.host, router.ScopeServer)), nil
}

func (s *service) serverItems(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if err := checkQuery(iq, q); err != nil {
		return nil, err
	}
	if q.AttrValue("node") != "" {
		return s.nodeResponse(ctx, router.ScopeServer, iq, q, nodeItems)
	}
	res := stanza.NewElement(NSItems, "query")
	for _, it := range s.host.Items() {
		item := stanza.NewElement(NSItems, "item", "jid", it.JID)
		if it.Name != "" {
			item.SetAttr("name", it.Name)
		}
		res.Add(item)
	}
	return stanza.Result(iq, res), nil
}

// accountInfo returns the disco#info of a bare account JID. Only the account
// itself and contacts the account shares its presence with may see it;
// anyone else gets service-unavailable, as if the account did not exist.
func (s *service) accountInfo(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if err := s.checkAccountQuery(ctx, iq, q); err != nil {
		return nil, err
	}
	if q.AttrValue("node") != "" {
		return s.nodeResponse(ctx, router.ScopeAccount, iq, q, nodeInfo)
	}
	return stanza.Result(iq, infoQuery(s.host, router.ScopeAccount)), nil
}

// accountItems returns an empty disco#items list for a bare account JID,
// to the same requesters as accountInfo.
func (s *service) accountItems(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if err := s.checkAccountQuery(ctx, iq, q); err != nil {
		return nil, err
	}
	if q.AttrValue("node") != "" {
		return s.nodeResponse(ctx, router.ScopeAccount, iq, q, nodeItems)
	}
	return stanza.Result(iq, stanza.NewElement(q.Name.Space, "query")), nil
}

// nodeResponse returns the response to a query for the node named in q:
// what the node's handler returns, serialized by build.
func (s *service) nodeResponse(ctx context.Context, scope router.Scope, iq *stanza.Stanza, q *stanza.Element, build func(string, Node) *stanza.Element) (*stanza.Stanza, error) {
	n, err := queryNode(ctx, s.host, scope, iq, q)
	if err != nil {
		return nil, err
	}
	return stanza.Result(iq, build(q.AttrValue("node"), n)), nil
}

// checkQuery rejects anything but a get of a <query/>. Queries for a node
// go to the handler registered with HandleNode.
func checkQuery(iq *stanza.Stanza, q *stanza.Element) error {
	if iq.Type != "get" {
		return stanza.NotAllowed.WithText("only get is defined for service discovery")
	}
	if q.Name.Local != "query" {
		return stanza.BadRequest
	}
	return nil
}

func (s *service) checkAccountQuery(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) error {
	account := iq.From.Bare()
	if !stanza.IsZero(iq.To) {
		account = iq.To.Bare()
	}
	ok, err := s.mayDiscover(ctx, account, iq.From.Bare())
	if err != nil {
		return err
	}
	if !ok {
		return stanza.ServiceUnavailable
	}
	return checkQuery(iq, q)
}

// mayDiscover reports whether requester is the account itself or a contact
// whose subscription is 'from' or 'both' in the account's roster, that is,
// a contact that receives the account's presence.
func (s *service) mayDiscover(ctx context.Context, account, requester jid.JID) (bool, error) {
	if requester.Equal(account) {
		return true, nil
	}
	owner := storage.Owner{Domain: account.Domainpart(), Local: account.Localpart()}
	item, err := s.roster.GetRosterItem(ctx, owner, requester.String())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("disco: read roster item: %w", err)
	}
	return item.Subscription == storage.SubFrom || item.Subscription == storage.SubBoth, nil
}
