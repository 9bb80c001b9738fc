package pep

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// viewer is the owner's roster entry, and node affiliation, of an entity
// that requests a node's items or may receive its notifications.
type viewer struct {
	self         bool   // the entity is the owner
	subscription string // storage.SubNone, SubTo, SubFrom or SubBoth
	groups       []string
	affiliation  string // from the node's affiliations; "" when none
}

// sharesPresence reports whether the owner shares its presence with the
// viewer (subscription from or both), which presence-based notifications
// need.
func (v viewer) sharesPresence() bool {
	return v.self || v.subscription == storage.SubFrom || v.subscription == storage.SubBoth
}

// sharesPresence reports whether the account shares its presence with the
// contact of this roster item.
func sharesPresence(it storage.RosterItem) bool {
	return it.Subscription == storage.SubFrom || it.Subscription == storage.SubBoth
}

// mayAccess returns nil when the viewer may retrieve the node's items and
// receive its notifications under the node's access model (XEP-0060
// §4.5), or the error of XEP-0060 §6.5.9 for the model.
func mayAccess(cfg nodeConfig, v viewer) *stanza.Error {
	if v.self {
		return nil
	}
	if v.affiliation == "outcast" {
		return stanza.Forbidden
	}
	switch cfg.accessModel() {
	case AccessOpen:
		return nil
	case AccessPresence:
		if v.sharesPresence() {
			return nil
		}
		return pubsubError(stanza.NotAuthorized, "presence-subscription-required")
	case AccessRoster:
		for _, g := range v.groups {
			if slices.Contains(cfg.rosterGroups(), g) {
				return nil
			}
		}
		return pubsubError(stanza.NotAuthorized, "not-in-roster-group")
	case AccessWhitelist:
		if v.affiliation == "member" {
			return nil
		}
		return pubsubError(stanza.NotAllowed, "closed-node")
	}
	return stanza.Forbidden
}

// viewerFromItem describes a contact from its roster item.
func viewerFromItem(it storage.RosterItem, n storage.PubSubNode) viewer {
	return viewer{subscription: it.Subscription, groups: it.Groups, affiliation: n.Affiliations[it.JID]}
}

// checkAccess returns nil when requester may retrieve the node's items,
// or the stanza error to send. A blocked requester gets
// service-unavailable, as for any iq a blocked entity sends (XEP-0191
// §3.3).
func (m *module) checkAccess(ctx context.Context, account, requester jid.JID, n storage.PubSubNode, cfg nodeConfig) error {
	bare := requester.Bare()
	if bare.Equal(account) {
		return nil
	}
	if m.blocked(ctx, account, requester) {
		return stanza.ServiceUnavailable
	}
	it, err := m.store.GetRosterItem(ctx, owner(account), bare.String())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		it = storage.RosterItem{JID: bare.String(), Subscription: storage.SubNone}
	case err != nil:
		return fmt.Errorf("pep: read roster item: %w", err)
	}
	if e := mayAccess(cfg, viewerFromItem(it, n)); e != nil {
		return e
	}
	return nil
}

// sortedKeys returns the keys of a map in byte order.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
