package carbons

import (
	"testing"

	"tern/stanza"
	"tern/stream"
)

// parse parses a stanza written in the jabber:client namespace.
func parse(t *testing.T, xml string) *stanza.Stanza {
	t.Helper()
	s, err := stream.ParseStanza([]byte(xml))
	if err != nil {
		t.Fatalf("parse %s: %v", xml, err)
	}
	return s
}

func TestEligible(t *testing.T) {
	cases := []struct {
		name string
		xml  string
		dir  direction
		want bool
	}{
		{"chat", `<message type='chat'><body>hi</body></message>`, received, true},
		{"chat without body", `<message type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`, received, true},
		{"normal with body", `<message type='normal'><body>hi</body></message>`, received, true},
		{"no type with body", `<message><body>hi</body></message>`, sent, true},
		{"normal without body", `<message><subject>x</subject></message>`, received, false},
		{"normal with receipt", `<message><received xmlns='urn:xmpp:receipts' id='a'/></message>`, received, true},
		{"normal with marker", `<message><displayed xmlns='urn:xmpp:chat-markers:0' id='a'/></message>`, sent, true},
		{"normal with chat state", `<message><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`, sent, true},
		{"headline", `<message type='headline'><body>news</body></message>`, received, false},
		{"groupchat", `<message type='groupchat'><body>all</body></message>`, received, false},
		{"error", `<message type='error'><body>x</body><error type='cancel'/></message>`, received, false},
		{"private", `<message type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>`, sent, false},
		{"private with prefix", `<message type='chat' xmlns:c='urn:xmpp:carbons:2'><body>x</body><c:private/></message>`, sent, false},
		{"private by character reference", `<message type='chat'><body>x</body><private xmlns='urn:xmpp:c&#97;rbons:2'/></message>`, sent, false},
		{"no-copy hint", `<message type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>`, received, false},
		{"other hint", `<message type='chat'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>`, received, true},
		{"already a carbon", `<message type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message/></forwarded></sent></message>`, received, false},
		{"carbon nested deeper", `<message type='chat'><x xmlns='urn:example'><received xmlns='urn:xmpp:carbons:2'/></x></message>`, received, false},
		{"MUC private message received", `<message type='chat' from='room@muc.example/nick'><body>pm</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`, received, false},
		{"MUC private message sent", `<message type='chat' to='room@muc.example/nick'><body>pm</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`, sent, true},
		{"MUC message to room JID sent", `<message type='chat' to='room@muc.example'><body>pm</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`, sent, false},
		{"mediated invitation", `<message from='room@muc.example'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@example.org'/></x></message>`, received, true},
		{"direct invitation", `<message><x xmlns='jabber:x:conference' jid='room@muc.example'/></message>`, received, true},
		{"MUC status message", `<message from='room@muc.example'><body>config changed</body><x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/></x></message>`, received, false},
	}
	for i, tc := range cases {
		if got := eligible(parse(t, tc.xml), tc.dir); got != tc.want {
			t.Errorf("%d %s: eligible = %v, want %v", i, tc.name, got, tc.want)
		}
	}
}

func TestCarriesCarbon(t *testing.T) {
	cases := []struct {
		name string
		xml  string
		want bool
	}{
		{"plain", `<message type='chat'><body>carbons are nice</body></message>`, false},
		{"private only", `<message><private xmlns='urn:xmpp:carbons:2'/></message>`, false},
		{"received", `<message><received xmlns='urn:xmpp:carbons:2'/></message>`, true},
		{"sent", `<message><sent xmlns='urn:xmpp:carbons:2'/></message>`, true},
		{"older version", `<message><received xmlns='urn:xmpp:carbons:1'/></message>`, true},
		{"nested", `<message><a xmlns='urn:example'><b><sent xmlns='urn:xmpp:carbons:2'/></b></a></message>`, true},
		{"inside forwarded", `<message><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><received xmlns='urn:xmpp:carbons:2'/></message></forwarded></message>`, true},
		{"prefix on start tag", `<message xmlns:c='urn:xmpp:carbons:2'><c:received/></message>`, true},
		{"character reference", `<message><received xmlns='urn:xmpp:c&#x61;rbons:2'/></message>`, true},
		{"receipt named received", `<message><received xmlns='urn:xmpp:receipts' id='x'/></message>`, false},
	}
	for i, tc := range cases {
		if got := carriesCarbon(parse(t, tc.xml)); got != tc.want {
			t.Errorf("%d %s: carriesCarbon = %v, want %v", i, tc.name, got, tc.want)
		}
	}
}
