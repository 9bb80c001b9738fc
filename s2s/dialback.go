package s2s

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// Namespaces of server stream negotiation.
const (
	nsTLS      = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL     = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsCompress = "http://jabber.org/protocol/compress"
	// nsDialback is the namespace of <db:result/> and <db:verify/>, and
	// nsDialbackFeature that of the stream feature (XEP-0220).
	nsDialback        = "jabber:server:dialback"
	nsDialbackFeature = "urn:xmpp:features:dialback"
)

// Dialback result types (XEP-0220).
const (
	dbValid   = "valid"
	dbInvalid = "invalid"
	dbError   = "error"
)

// dialbackKey returns the key that the originating server sends and the
// authoritative server checks: the hex-encoded HMAC-SHA256, under the
// process secret, of the receiving domain, the originating domain and the
// stream id the receiving server assigned, joined by single spaces. This
// is the algorithm of XEP-0185 keyed with the random secret itself rather
// than its SHA-256 hash, which is no weaker for a 32-byte random secret.
func (s *Server) dialbackKey(receiving, originating, streamID string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(receiving + " " + originating + " " + streamID))
	return hex.EncodeToString(m.Sum(nil))
}

// checkDialbackKey reports whether key is the one this server issued for
// the three values, comparing in constant time.
func (s *Server) checkDialbackKey(receiving, originating, streamID, key string) bool {
	want := s.dialbackKey(receiving, originating, streamID)
	return hmac.Equal([]byte(want), []byte(key))
}

// dbElement returns a <db:result/> or <db:verify/> element. The db prefix
// is declared on every stream header Tern sends.
func dbElement(name, from, to, id, typ, key string) *stanza.Element {
	el := &stanza.Element{Name: xml.Name{Local: "db:" + name}}
	el.SetAttr("from", from)
	el.SetAttr("to", to)
	if id != "" {
		el.SetAttr("id", id)
	}
	if typ != "" {
		el.SetAttr("type", typ)
	}
	return el.AddText(key)
}

// dbErrorElement returns a dialback response of type error with a stanza
// error condition (XEP-0220).
func dbErrorElement(name, from, to, id string, se *stanza.Error) *stanza.Element {
	el := dbElement(name, from, to, id, dbError, "")
	e := stanza.NewElement("", "error", "type", se.Type)
	e.Add(stanza.NewElement(stanza.NSStanzas, se.Condition))
	return el.Add(e)
}

// parseDomain returns the domain of a JID that is nothing but a domain,
// as the addresses of streams and dialback elements must be.
func parseDomain(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	j, err := jid.Parse(s)
	if err != nil || j.Localpart() != "" || j.Resourcepart() != "" {
		return "", false
	}
	return j.Domainpart(), true
}

// elementText returns the character data of a stream-level element, such
// as a dialback key or SASL data.
func elementText(el *stanza.Stanza) string {
	p, err := el.Payload()
	if err != nil {
		return ""
	}
	return p.Text()
}

// dbErrorCondition returns the stanza error condition inside a dialback
// response of type error.
func dbErrorCondition(el *stanza.Stanza) string {
	p, err := el.Payload()
	if err != nil {
		return ""
	}
	for _, e := range p.Elements() {
		if e.Name.Local != "error" {
			continue
		}
		for _, c := range e.Elements() {
			if c.Name.Space == stanza.NSStanzas && c.Name.Local != "text" {
				return c.Name.Local
			}
		}
	}
	return ""
}
