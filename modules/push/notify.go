package push

import (
	"context"
	"encoding/xml"
	"strconv"
	"time"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
)

// accountState counts the messages of an account that has no connected
// session and remembers when each registration was last notified.
type accountState struct {
	count int
	last  map[string]time.Time // registration key → last notification
}

// summary is the content of the urn:xmpp:push:summary form.
type summary struct {
	count  int
	sender string
	body   string // empty unless bodies are included
}

// encryptedPayloads are the end-to-end encrypted payloads that make a
// message worth a notification even without a body.
var encryptedPayloads = []xml.Name{
	{Space: "urn:xmpp:omemo:2", Local: "encrypted"},
	{Space: "eu.siacs.conversations.axolotl", Local: "encrypted"},
	{Space: "urn:xmpp:openpgp:0", Local: "openpgp"},
	{Space: "jabber:x:encrypted", Local: "x"},
}

// pushable reports whether a message is worth a notification: a chat or
// normal message, or a groupchat message addressed to one resource, with
// a body or an encrypted payload. Chat states, receipts and markers alone
// are not.
func pushable(s *stanza.Stanza) bool {
	switch s.Type {
	case "", "normal", "chat":
	case "groupchat":
		if s.To.Resourcepart() == "" {
			return false
		}
	default:
		return false
	}
	if s.Child(stanza.NSClient, "body") != nil {
		return true
	}
	for _, n := range encryptedPayloads {
		if s.Child(n.Space, n.Local) != nil {
			return true
		}
	}
	return false
}

type detacher interface{ Detached() bool }

// connected reports whether any session of the account has a live
// connection. Sessions that cannot be detached always do.
func connected(sessions []router.Session) bool {
	for _, s := range sessions {
		if d, ok := s.(detacher); !ok || !d.Detached() {
			return true
		}
	}
	return false
}

// inboundMessage notifies for a message to an account whose sessions all
// wait for resumption. Messages to an account with no session are left
// to the Undeliverable hook, so that each message notifies once.
func (m *module) inboundMessage(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	// The session check comes first because it is cheap: most messages
	// go to a connected session and need no look at their content.
	sessions := m.host.Sessions(s.To.Bare())
	switch {
	case len(sessions) == 0:
	case connected(sessions):
		m.reset(s.To.Bare())
	case pushable(s):
		m.notify(ctx, s)
	}
	return router.Continue
}

// undeliverable notifies for a message to an account with no session. It
// returns Continue, so that offline storage keeps the message.
//
// NOTE: when a detached session's resumption window passes, the messages
// it kept go to offline storage through this hook and notify once more.
func (m *module) undeliverable(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if pushable(s) && len(m.host.Sessions(s.To.Bare())) == 0 {
		// Offline storage runs later in this chain. A client that the
		// notification wakes must find the message stored when it logs in.
		ev.After(func(ctx context.Context) { m.notify(ctx, s) })
	}
	return router.Continue
}

// notify publishes a summary to every registration of the message's
// account that the rate limit allows.
func (m *module) notify(ctx context.Context, msg *stanza.Stanza) {
	account := msg.To.Bare()
	regs, err := m.regs.list(ctx, ownerOf(account))
	if err != nil {
		m.log.Error("load push registrations", "err", err, "jid", account.String())
		return
	}
	if len(regs) == 0 {
		return
	}
	sum, due := m.record(account, msg, regs)
	for _, reg := range due {
		m.publish(ctx, account, reg, sum)
	}
}

// record counts msg and returns the summary and the registrations whose
// last notification is at least minInterval old, marking them notified.
func (m *module) record(account jid.JID, msg *stanza.Stanza, regs []registration) (summary, []registration) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.accounts[account.String()]
	if st == nil {
		st = &accountState{last: make(map[string]time.Time)}
		m.accounts[account.String()] = st
	}
	st.count++
	sum := summary{count: st.count, sender: msg.From.String()}
	if m.includeBody {
		sum.body = msg.Child(stanza.NSClient, "body").Text()
	}
	var due []registration
	for _, reg := range regs {
		last, ok := st.last[reg.key()]
		if ok && now.Sub(last) < m.minInterval {
			continue
		}
		st.last[reg.key()] = now
		due = append(due, reg)
	}
	return sum, due
}

// reset clears the account's count and rate limits once it has a
// connected session again.
func (m *module) reset(account jid.JID) {
	m.mu.Lock()
	delete(m.accounts, account.String())
	m.mu.Unlock()
}

// notification returns the pubsub publish that XEP-0357 defines under
// Publishing Notifications, for reg.
func notification(reg registration, sum summary) *stanza.Element {
	form := stanza.NewElement(nsData, "x", "type", "submit").Add(
		field("FORM_TYPE", formSummary),
		field("message-count", strconv.Itoa(sum.count)),
		field("last-message-sender", sum.sender),
	)
	if sum.body != "" {
		form.Add(field("last-message-body", sum.body))
	}
	item := stanza.NewElement(nsPubSub, "item").Add(stanza.NewElement(NS, "notification").Add(form))
	pubsub := stanza.NewElement(nsPubSub, "pubsub").Add(
		stanza.NewElement(nsPubSub, "publish", "node", reg.Node).Add(item))
	if reg.Options != nil {
		pubsub.Add(stanza.NewElement(nsPubSub, "publish-options").Add(reg.Options))
	}
	return pubsub
}

func field(name, value string) *stanza.Element {
	return stanza.NewElement(nsData, "field", "var", name).Add(
		stanza.NewElement(nsData, "value").AddText(value))
}
