// Package pep implements the Personal Eventing Protocol (XEP-0163): each
// local account's bare JID is a publish-subscribe service with the subset
// of XEP-0060 that clients use. It serves publish (with XEP-0223
// publish-options), retract, items, node creation, configuration, purge
// and deletion, and enforces the open, presence, roster and whitelist
// access models.
//
// Subscriptions are implicit: an available resource that advertises
// "NODE+notify" in its entity capabilities (XEP-0115) receives
// notifications of NODE from the contacts whose presence it may see, and
// from its own account. The module learns each capability hash once with
// a disco#info query and caches verified hashes in memory and in storage.
//
// On top of the generic service it carries User Avatar (XEP-0084) to the
// vCard-based avatars of XEP-0153 (XEP-0398, in part), and keeps the
// bookmarks of XEP-0402 in step with the single-item node of XEP-0048.
package pep

import (
	"fmt"
	"log/slog"

	"tern/modules"
	"tern/router"
	"tern/storage"
)

// Namespaces of XEP-0060 and XEP-0115.
const (
	NS       = "http://jabber.org/protocol/pubsub"
	NSOwner  = NS + "#owner"
	NSEvent  = NS + "#event"
	NSErrors = NS + "#errors"
	NSCaps   = "http://jabber.org/protocol/caps"
	NSDisco  = "http://jabber.org/protocol/disco#info"
)

func init() {
	modules.Register(modules.Module{Name: "pep", Order: 20, New: start})
}

// Store is the storage the module needs.
type Store interface {
	storage.PubSub
	storage.Roster
	storage.KV
}

type module struct {
	host    router.Host
	store   Store
	log     *slog.Logger
	caps    *capsCache
	remote  *remoteTable
	avatars *photoCache
	nodes   *nodeLocks
}

// features are the pubsub features the service supports, by their names
// in the registry of XEP-0060 §17.3.
var features = []string{
	"access-open", "access-presence", "access-roster", "access-whitelist",
	"auto-create", "auto-subscribe", "config-node", "config-node-max",
	"create-and-configure", "create-nodes", "delete-items", "delete-nodes",
	"filtered-notifications", "item-ids", "last-published", "modify-affiliations",
	"multi-items", "persistent-items", "presence-notifications", "publish",
	"publish-options", "purge-nodes", "retract", "retrieve-affiliations",
	"retrieve-default", "retrieve-items",
}

func start(env *modules.Env) error {
	st, ok := env.Store.(Store)
	if !ok {
		return fmt.Errorf("pep: the storage backend %T does not implement storage.PubSub", env.Store)
	}
	h := env.Host
	m := &module{
		host:    h,
		store:   st,
		log:     h.Logger("pep"),
		remote:  newRemoteTable(),
		avatars: newPhotoCache(),
		nodes:   newNodeLocks(),
	}
	m.caps = newCapsCache(h, st, m.log)
	h.AddIdentity(router.ScopeAccount, "pubsub", "pep", "")
	for _, f := range features {
		h.AddFeature(router.ScopeAccount, NS+"#"+f)
	}
	h.AddFeature(router.ScopeAccount, NSBookmarksCompatPEP)
	h.HandleIQ(router.ScopeAccount, NS, m.handlePubSub)
	h.HandleIQ(router.ScopeAccount, NSOwner, m.handleOwner)

	// The presence hook runs before the roster module broadcasts, so that
	// the broadcast carries the avatar hash.
	h.Hook(router.Outbound, "presence", router.OrderRoster-10, m.outboundPresence)
	h.Hook(router.Inbound, "presence", router.OrderRoster-10, m.inboundPresence)
	h.Hook(router.Outbound, "iq", router.OrderLast, m.outboundVCard)
	h.Hook(router.Inbound, "iq", router.OrderLast, m.inboundVCard)
	h.OnSession(router.SessionAvailable, m.sessionAvailable)
	h.OnSession(router.SessionUnavailable, m.sessionUnavailable)
	h.OnSession(router.SessionClosed, m.sessionClosed)
	return nil
}
