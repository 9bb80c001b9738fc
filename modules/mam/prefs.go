package mam

import (
	"slices"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// Archiving modes of the 'default' attribute of <prefs/> (XEP-0441).
const (
	ModeAlways = "always"
	ModeRoster = "roster"
	ModeNever  = "never"
)

// Prefs are an account's archiving preferences (XEP-0441): a default mode
// and JIDs whose messages are always or never archived.
type Prefs struct {
	Default string   // ModeAlways, ModeRoster or ModeNever
	Always  []string // normalized JIDs, bare or full
	Never   []string // normalized JIDs, bare or full
}

// ParsePrefs reads a <prefs/> element. It returns a bad-request or
// jid-malformed *stanza.Error for an invalid one.
func ParsePrefs(el *stanza.Element) (Prefs, error) {
	if el.Name.Local != "prefs" {
		return Prefs{}, stanza.BadRequest.WithText("expected a prefs element")
	}
	p := Prefs{Default: el.AttrValue("default")}
	switch p.Default {
	case ModeAlways, ModeRoster, ModeNever:
	default:
		return Prefs{}, stanza.BadRequest.WithText("default must be always, roster or never")
	}
	var err error
	if p.Always, err = prefsJIDs(el.Child(NS, "always")); err != nil {
		return Prefs{}, err
	}
	if p.Never, err = prefsJIDs(el.Child(NS, "never")); err != nil {
		return Prefs{}, err
	}
	return p, nil
}

// prefsJIDs returns the normalized <jid/> children of list, which may be
// nil.
func prefsJIDs(list *stanza.Element) ([]string, error) {
	if list == nil {
		return nil, nil
	}
	var out []string
	for _, j := range list.ChildrenNamed(NS, "jid") {
		parsed, err := stanza.ParseJID(j.Text())
		if err != nil {
			return nil, stanza.JIDMalformed.WithText("invalid JID in archiving preferences")
		}
		if s := parsed.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Element returns the <prefs/> element, with empty <always/> and <never/>
// lists included as XEP-0441 shows them.
func (p Prefs) Element() *stanza.Element {
	el := stanza.NewElement(NS, "prefs", "default", p.Default)
	always := stanza.NewElement(NS, "always")
	for _, j := range p.Always {
		always.Add(stanza.NewElement(NS, "jid").AddText(j))
	}
	never := stanza.NewElement(NS, "never")
	for _, j := range p.Never {
		never.Add(stanza.NewElement(NS, "jid").AddText(j))
	}
	return el.Add(always, never)
}

// Archives reports whether a message exchanged with contact is archived.
// A listed JID matches the contact's full JID, or its bare JID when the
// listed JID has no resource, and never wins over always. Otherwise the
// default decides, calling inRoster only in roster mode.
func (p Prefs) Archives(contact jid.JID, inRoster func() bool) bool {
	switch {
	case matchesAny(p.Never, contact):
		return false
	case matchesAny(p.Always, contact):
		return true
	}
	switch p.Default {
	case ModeAlways:
		return true
	case ModeRoster:
		return inRoster()
	}
	return false
}

func matchesAny(list []string, contact jid.JID) bool {
	full, bare := contact.String(), contact.Bare().String()
	for _, j := range list {
		if j == full || j == bare {
			return true
		}
	}
	return false
}
