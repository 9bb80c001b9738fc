package mam

import (
	"bytes"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// parse returns the stanza serialized in xml, failing the test on error.
func parse(t *testing.T, xml string) *stanza.Stanza {
	t.Helper()
	s, err := stream.ParseStanza([]byte(xml))
	if err != nil {
		t.Fatalf("ParseStanza(%s): %v", xml, err)
	}
	return s
}

func TestArchivable(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want bool
	}{
		{"chat with body", "<message type='chat'><body>hi</body></message>", true},
		{"normal with body", "<message type='normal'><body>hi</body></message>", true},
		{"no type with body", "<message><body>hi</body></message>", true},
		{"groupchat", "<message type='groupchat'><body>hi</body></message>", false},
		{"headline", "<message type='headline'><body>hi</body></message>", false},
		{"error", "<message type='error'><body>hi</body><error type='cancel'/></message>", false},
		{"chat state only", "<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>", false},
		{"body in another namespace", "<message type='chat'><body xmlns='urn:example'>hi</body></message>", false},
		{"omemo 2", "<message type='chat'><encrypted xmlns='urn:xmpp:omemo:2'><payload>x</payload></encrypted></message>", true},
		{"legacy omemo", "<message type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>", true},
		{"openpgp", "<message type='chat'><openpgp xmlns='urn:xmpp:openpgp:0'>x</openpgp></message>", true},
		{"legacy openpgp", "<message type='chat'><x xmlns='jabber:x:encrypted'>x</x></message>", true},
		{"store hint", "<message type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='a'/><store xmlns='urn:xmpp:hints'/></message>", true},
		{"no-store hint", "<message type='chat'><body>hi</body><no-store xmlns='urn:xmpp:hints'/></message>", false},
		{"no-permanent-store hint", "<message type='chat'><body>hi</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>", false},
		{"no-store wins over store", "<message type='chat'><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/></message>", false},
		{"presence", "<presence><status>hi</status></presence>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Archivable(parse(t, tt.xml)); got != tt.want {
				t.Errorf("Archivable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStripStanzaIDs(t *testing.T) {
	juliet := jid.MustParse("juliet@capulet.example")
	tests := []struct {
		name    string
		xml     string
		want    string // the content after stripping
		removed bool
	}{
		{
			"forged removed, others kept",
			"<message><body>a</body><stanza-id xmlns='urn:xmpp:sid:0' id='1' by='juliet@capulet.example'/>" +
				"<stanza-id xmlns='urn:xmpp:sid:0' id='2' by='room@muc.example'/><x/></message>",
			"<body>a</body><stanza-id xmlns='urn:xmpp:sid:0' id='2' by='room@muc.example'/><x/>",
			true,
		},
		{
			"several forged, with children and text",
			"<message>\n <stanza-id xmlns='urn:xmpp:sid:0' id='1' by='Juliet@Capulet.Example'>t<y/></stanza-id>\n" +
				" <stanza-id by='juliet@capulet.example' id='2' xmlns='urn:xmpp:sid:0'></stanza-id>\n</message>",
			"\n \n \n",
			true,
		},
		{
			"prefix declared on the stanza",
			"<message xmlns:sid='urn:xmpp:sid:0'><body>a</body><sid:stanza-id id='1' by='juliet@capulet.example'/></message>",
			"<body>a</body>",
			true,
		},
		{
			"same name in another namespace",
			"<message><stanza-id xmlns='urn:xmpp:sid:1' id='1' by='juliet@capulet.example'/><body>urn:xmpp:sid:0</body></message>",
			"<stanza-id xmlns='urn:xmpp:sid:1' id='1' by='juliet@capulet.example'/><body>urn:xmpp:sid:0</body>",
			false,
		},
		{
			"nested deeper",
			"<message><forwarded xmlns='urn:xmpp:forward:0'><stanza-id xmlns='urn:xmpp:sid:0' id='1' by='juliet@capulet.example'/></forwarded></message>",
			"<forwarded xmlns='urn:xmpp:forward:0'><stanza-id xmlns='urn:xmpp:sid:0' id='1' by='juliet@capulet.example'/></forwarded>",
			false,
		},
		{
			"resource in by",
			"<message><stanza-id xmlns='urn:xmpp:sid:0' id='1' by='juliet@capulet.example/balcony'/></message>",
			"<stanza-id xmlns='urn:xmpp:sid:0' id='1' by='juliet@capulet.example/balcony'/>",
			false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parse(t, tt.xml)
			if _, err := s.Payload(); err != nil {
				t.Fatalf("Payload: %v", err)
			}
			if removed := StripStanzaIDs(s, juliet); removed != tt.removed {
				t.Errorf("StripStanzaIDs = %v, want %v", removed, tt.removed)
			}
			if string(s.Inner) != tt.want {
				t.Errorf("content = %q, want %q", s.Inner, tt.want)
			}
			if tt.removed && s.Child(NSStanzaID, "stanza-id") != nil &&
				s.Child(NSStanzaID, "stanza-id").AttrValue("by") == "juliet@capulet.example" {
				t.Errorf("the parsed payload still shows the removed stanza-id")
			}
		})
	}
}

func TestAddStanzaID(t *testing.T) {
	const content = "<body>a &amp; b</body><encrypted xmlns=\"urn:xmpp:omemo:2\"  ><payload>eA==</payload></encrypted>"
	s := parse(t, "<message type='chat'>"+content+"</message>")
	shared := s.Inner
	AddStanzaID(s, "0abc", jid.MustParse("juliet@capulet.example"))
	if !bytes.HasPrefix(s.Inner, []byte(content)) {
		t.Errorf("content before the stanza-id changed: %q", s.Inner)
	}
	if string(shared) != content {
		t.Errorf("AddStanzaID changed the original content bytes: %q", shared)
	}
	sid := s.Child(NSStanzaID, "stanza-id")
	if sid == nil || sid.AttrValue("id") != "0abc" || sid.AttrValue("by") != "juliet@capulet.example" {
		t.Errorf("stanza-id = %v in %s", sid, s)
	}
	if n := strings.Count(string(s.Inner), "stanza-id"); n != 1 {
		t.Errorf("content has %d stanza-ids, want 1", n)
	}
}
