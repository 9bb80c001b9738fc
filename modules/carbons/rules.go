package carbons

import (
	"bytes"
	"strings"

	"tern/stanza"
)

// Namespaces of the payloads the copy rules look at.
const (
	nsHints       = "urn:xmpp:hints"                        // XEP-0334
	nsMUCUser     = "http://jabber.org/protocol/muc#user"   // XEP-0045
	nsConference  = "jabber:x:conference"                   // XEP-0249
	nsReceipts    = "urn:xmpp:receipts"                     // XEP-0184
	nsChatStates  = "http://jabber.org/protocol/chatstates" // XEP-0085
	nsChatMarkers = "urn:xmpp:chat-markers:0"               // XEP-0333
)

// direction says on which side of the server a message is copied.
type direction int

const (
	// received is a message to a local account, copied as <received/>.
	received direction = iota
	// sent is a message a local client sent, copied as <sent/>.
	sent
)

// eligible decides whether a message is copied, following the recommended
// rules of XEP-0280 ("Messages Eligible for Carbons Delivery"):
//   - never: type error, headline or groupchat; a <private/> or XEP-0334
//     <no-copy/> child; a carbons <received/> or <sent/> anywhere inside,
//     so a copy is never copied again;
//   - messages with a MUC <x xmlns='…muc#user'/> child: invitations are
//     copied, a private message is copied when a local client sends it to
//     an occupant's full JID, and nothing else (private messages an
//     occupant receives reach every joined client from the room itself);
//   - otherwise type chat, type normal with a <body/>, and type normal
//     carrying receipts (XEP-0184), chat states (XEP-0085) or chat
//     markers (XEP-0333).
//
// Error messages in reply to copied messages would qualify too, but telling
// them apart needs per-message tracking, which the server does not do.
func eligible(s *stanza.Stanza, dir direction) bool {
	switch s.Type {
	case "chat", "normal", "":
	default:
		return false
	}
	if s.Type == "chat" && plainBytes(s) {
		return true // nothing inside can make it ineligible
	}
	p, err := s.Payload()
	if err != nil || p.Child(NS, "private") != nil || p.Child(nsHints, "no-copy") != nil || hasCarbon(p) {
		return false
	}
	if x := p.Child(nsMUCUser, "x"); x != nil {
		switch {
		case x.Child(nsMUCUser, "invite") != nil, p.Child(nsConference, "x") != nil:
			return true
		case dir == sent:
			return s.To.Resourcepart() != ""
		default:
			return false
		}
	}
	if s.Type == "chat" || p.Child(nsConference, "x") != nil || p.Child("", "body") != nil {
		return true
	}
	for _, c := range p.Elements() {
		switch c.Name.Space {
		case nsReceipts, nsChatStates, nsChatMarkers:
			return true
		}
	}
	return false
}

// plainBytes reports whether a message certainly holds none of the
// elements that make a chat message ineligible. Every namespace name is
// in the content or in a prefix declaration on the start tag, spelled as
// written unless a character reference spells it.
func plainBytes(s *stanza.Stanza) bool {
	return !mentions(s, "carbons", "hints", "muc#user", "&#")
}

// mentions reports whether any marker occurs in the content of s or in an
// attribute of its start tag.
func mentions(s *stanza.Stanza, markers ...string) bool {
	for _, marker := range markers {
		if bytes.Contains(s.Inner, []byte(marker)) {
			return true
		}
		for _, a := range s.Attrs {
			if strings.Contains(a.Value, marker) {
				return true
			}
		}
	}
	return false
}

// carriesCarbon reports whether a stanza has a carbons <received/> or
// <sent/> element at any depth, in urn:xmpp:carbons:2 or any other
// version of the namespace. Only the server creates such messages.
func carriesCarbon(s *stanza.Stanza) bool {
	if !mentions(s, "carbons", "&#") {
		return false
	}
	p, err := s.Payload()
	if err != nil {
		return true // unreadable: treat as suspect
	}
	return hasCarbon(p)
}

// hasCarbon searches the children of el, at any depth, for a carbons
// wrapper.
func hasCarbon(el *stanza.Element) bool {
	for _, c := range el.Elements() {
		if isCarbonNS(c.Name.Space) && (c.Name.Local == "received" || c.Name.Local == "sent") {
			return true
		}
		if hasCarbon(c) {
			return true
		}
	}
	return false
}

func isCarbonNS(ns string) bool { return strings.HasPrefix(ns, "urn:xmpp:carbons:") }
