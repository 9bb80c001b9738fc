package blocking

import (
	"context"
	"strings"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// contactMatch is a roster contact covered by a changed blocklist entry.
type contactMatch struct {
	item storage.RosterItem
	// peer is the address presence is exchanged with: the contact's bare
	// JID, or the blocked full JID when the entry names one resource.
	peer jid.JID
}

// matchContacts returns the roster contacts of user that the entries
// cover. A domain entry covers every contact at the domain and its
// subdomains; a domain/resource entry covers no contact.
func (m *module) matchContacts(ctx context.Context, user jid.JID, entries []string) []contactMatch {
	if len(entries) == 0 {
		return nil
	}
	items, _, err := m.store.GetRoster(ctx, ownerOf(user))
	if err != nil {
		m.log.Error("load roster for blocklist change", "err", err, "jid", user.String())
		return nil
	}
	var out []contactMatch
	for _, it := range items {
		contact, err := jid.Parse(it.JID)
		if err != nil {
			continue
		}
		for _, e := range entries {
			entry, err := jid.Parse(e)
			if err != nil || !covers(entry, contact) {
				continue
			}
			peer := contact
			if entry.Localpart() != "" && entry.Resourcepart() != "" {
				peer = entry
			}
			out = append(out, contactMatch{item: it, peer: peer})
		}
	}
	return out
}

// covers reports whether a blocklist entry matches a contact's bare JID.
func covers(entry, contact jid.JID) bool {
	if entry.Localpart() != "" {
		return entry.Bare().Equal(contact)
	}
	if entry.Resourcepart() != "" {
		return false
	}
	d := contact.Domainpart()
	return d == entry.Domainpart() || strings.HasSuffix(d, "."+entry.Domainpart())
}

// afterBlock makes the newly blocked contacts disappear in both
// directions. A contact allowed to see the user's presence gets
// unavailable presence from each available resource of the user
// (XEP-0191, "User Blocks Contact"). The user's available resources get
// unavailable presence from each contact whose presence they received,
// because none will arrive any more.
//
// NOTE: a blocked entity that got only directed presence (RFC 6121 §4.6),
// with no subscription, gets no unavailable presence here.
func (m *module) afterBlock(ctx context.Context, user jid.JID, added []string) {
	sessions := available(m.host.Sessions(user))
	for _, c := range m.matchContacts(ctx, user, added) {
		if hasFrom(c.item.Subscription) {
			for _, s := range sessions {
				m.sendToBlocked(ctx, stanza.New(stanza.Presence, "unavailable", c.peer, s.JID()))
			}
		}
		if hasTo(c.item.Subscription) {
			for _, s := range sessions {
				s.Deliver(stanza.New(stanza.Presence, "unavailable", s.JID(), c.peer))
			}
		}
	}
}

// sendToBlocked sends presence from the user to a contact the user now
// blocks.
// For a local contact it is delivered directly, because the contact's
// Inbound hooks would drop it as coming from an account that blocks the
// recipient.
func (m *module) sendToBlocked(ctx context.Context, p *stanza.Stanza) {
	if m.host.IsLocal(p.To.Domainpart()) {
		m.host.Deliver(ctx, p)
		return
	}
	m.host.Route(ctx, p)
}

// afterUnblock restores presence with the contacts no longer blocked. A
// contact allowed to see the user's presence gets the current presence of
// each available resource (XEP-0191, "User Unblocks Contact"), and a
// contact whose presence the user receives is probed, so the user's
// resources learn it again.
func (m *module) afterUnblock(ctx context.Context, user jid.JID, removed []string) {
	sessions := available(m.host.Sessions(user))
	probed := map[string]bool{}
	for _, c := range m.matchContacts(ctx, user, removed) {
		if hasFrom(c.item.Subscription) {
			for _, s := range sessions {
				p := s.Presence()
				if p == nil {
					continue // went unavailable meanwhile
				}
				out := p.Copy()
				out.From = s.JID()
				out.To = c.peer
				m.host.Route(ctx, out)
			}
		}
		if hasTo(c.item.Subscription) && len(sessions) > 0 && !probed[c.item.JID] {
			probed[c.item.JID] = true
			m.host.Route(ctx, stanza.New(stanza.Presence, "probe", c.peer.Bare(), user))
		}
	}
}

// available returns the sessions that have sent available presence.
func available(sessions []router.Session) []router.Session {
	var out []router.Session
	for _, s := range sessions {
		if router.Available(s) {
			out = append(out, s)
		}
	}
	return out
}

func hasFrom(sub string) bool { return sub == storage.SubFrom || sub == storage.SubBoth }
func hasTo(sub string) bool   { return sub == storage.SubTo || sub == storage.SubBoth }
