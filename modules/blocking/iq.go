package blocking

import (
	"context"
	"crypto/rand"
	"fmt"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// requestedKey is the session value set once the client has fetched the
// blocklist. Only such sessions get block and unblock pushes (XEP-0191,
// "User Blocks Contact").
type requestedKey struct{}

// handleIQ serves <blocklist/>, <block/> and <unblock/> for the account
// that sends them. A request about another account's list gets
// <forbidden/>.
func (m *module) handleIQ(ctx context.Context, iq *stanza.Stanza, payload *stanza.Element) (*stanza.Stanza, error) {
	if !stanza.IsZero(iq.To) && !iq.To.Equal(iq.From.Bare()) {
		return nil, stanza.Forbidden
	}
	switch {
	case payload.Name.Local == "blocklist" && iq.Type == "get":
		return m.get(ctx, iq)
	case payload.Name.Local == "block" && iq.Type == "set":
		return nil, m.block(ctx, iq, payload)
	case payload.Name.Local == "unblock" && iq.Type == "set":
		return nil, m.unblock(ctx, iq, payload)
	}
	return nil, stanza.BadRequest.WithText(
		"expected an iq get with <blocklist/> or an iq set with <block/> or <unblock/>")
}

func (m *module) get(ctx context.Context, iq *stanza.Stanza) (*stanza.Stanza, error) {
	jids, err := m.checker.Blocklist(ctx, ownerOf(iq.From))
	if err != nil {
		return nil, fmt.Errorf("blocking: read blocklist of %s: %w", iq.From.Bare(), err)
	}
	if sess := m.host.Session(iq.From); sess != nil {
		sess.SetValue(requestedKey{}, true)
	}
	return stanza.Result(iq, itemsElement("blocklist", jids)), nil
}

// block adds the items to the list, sends the result, pushes the change
// and sends unavailable presence to the contacts that became blocked.
func (m *module) block(ctx context.Context, iq *stanza.Stanza, payload *stanza.Element) error {
	jids, err := parseItems(payload)
	if err != nil {
		return err
	}
	if len(jids) == 0 {
		return stanza.BadRequest.WithText("a block command needs at least one item")
	}
	user := iq.From.Bare()
	added, err := m.checker.block(ctx, ownerOf(user), jids)
	if err != nil {
		return fmt.Errorf("blocking: block for %s: %w", user, err)
	}
	m.host.Route(ctx, stanza.Result(iq))
	m.push(user, itemsElement("block", jids))
	m.afterBlock(ctx, user, added)
	return nil
}

// unblock removes the items, or every entry when there are none, sends
// the result, pushes the change and sends current presence to the
// contacts that are no longer blocked.
func (m *module) unblock(ctx context.Context, iq *stanza.Stanza, payload *stanza.Element) error {
	jids, err := parseItems(payload)
	if err != nil {
		return err
	}
	user := iq.From.Bare()
	removed, err := m.checker.unblock(ctx, ownerOf(user), jids)
	if err != nil {
		return fmt.Errorf("blocking: unblock for %s: %w", user, err)
	}
	m.host.Route(ctx, stanza.Result(iq))
	m.push(user, itemsElement("unblock", jids))
	m.afterUnblock(ctx, user, removed)
	return nil
}

// parseItems returns the normalized JIDs of the <item/> children.
func parseItems(payload *stanza.Element) ([]string, error) {
	var jids []string
	for _, el := range payload.Elements() {
		if el.Name.Space != NS || el.Name.Local != "item" {
			return nil, stanza.BadRequest.WithText("unexpected element " + el.Name.Local)
		}
		j, err := stanza.ParseJID(el.AttrValue("jid"))
		if err != nil {
			return nil, stanza.JIDMalformed.WithText("invalid item jid")
		}
		jids = append(jids, j.String())
	}
	return jids, nil
}

// itemsElement returns <name xmlns='urn:xmpp:blocking'/> with one item per
// JID.
func itemsElement(name string, jids []string) *stanza.Element {
	el := stanza.NewElement(NS, name)
	for _, j := range jids {
		el.Add(stanza.NewElement(NS, "item", "jid", j))
	}
	return el
}

// push sends el in an iq set to every session of user that has fetched
// the blocklist. Pushes have no 'from': they come from the account.
func (m *module) push(user jid.JID, el *stanza.Element) {
	for _, sess := range m.host.Sessions(user) {
		if requested, _ := sess.Value(requestedKey{}).(bool); !requested {
			continue
		}
		p := stanza.New(stanza.IQ, "set", sess.JID(), jid.JID{}, el)
		p.ID = "block-push-" + rand.Text()
		sess.Deliver(p)
	}
}
