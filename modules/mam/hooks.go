package mam

import (
	"context"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
)

// outbound archives a message that a local session sends, in the sender's
// archive. The message goes on unchanged, because XEP-0313 keeps an
// archive's ids out of messages to those who cannot read the archive.
func (m *module) outbound(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if !Archivable(s) {
		return router.Continue
	}
	account := s.From.Bare()
	with := s.To
	if stanza.IsZero(with) || with.Bare().Equal(account) {
		// A message to the account itself is archived once, by the
		// Inbound hook, which also adds its stanza-id.
		return router.Continue
	}
	if !m.prefsAllow(ctx, account, with) {
		return router.Continue
	}
	if _, err := Append(ctx, m.archive, owner(account), with, s); err != nil {
		m.log.Error("archive sent message", "err", err, "jid", account.String())
	}
	return router.Continue
}

// inbound archives a message to a local account in the account's archive
// and adds the archive id as a stanza-id. Before that it removes every
// stanza-id that claims to come from the account's archive, whether or
// not the message is archived, so that only the server sets them.
func (m *module) inbound(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if s.To.Localpart() == "" {
		return router.Continue // a message to the server itself
	}
	account := s.To.Bare()
	StripStanzaIDs(s, account)
	if !Archivable(s) || !m.prefsAllow(ctx, account, s.From) {
		return router.Continue
	}
	id, err := Append(ctx, m.archive, owner(account), s.From, s)
	if err != nil {
		m.log.Error("archive received message", "err", err, "jid", account.String())
		return router.Continue
	}
	AddStanzaID(s, id, account)
	return router.Continue
}

// prefsAllow applies the account's archiving preferences to a message
// exchanged with contact.
func (m *module) prefsAllow(ctx context.Context, account, contact jid.JID) bool {
	o := owner(account)
	p, err := m.prefs(ctx, o)
	if err != nil {
		m.log.Error("load archiving preferences", "err", err, "jid", account.String())
		p = Prefs{Default: m.defaultMode}
	}
	return p.Archives(contact, func() bool {
		item, err := m.roster.GetRosterItem(ctx, o, contact.Bare().String())
		return err == nil && item.Listed
	})
}
