package mam

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// Namespaces of end-to-end encrypted payloads, which are archived like a
// body: OMEMO (XEP-0384, current and legacy), OpenPGP for XMPP (XEP-0373)
// and legacy OpenPGP (XEP-0027).
var encryptedPayloads = []xml.Name{
	{Space: "urn:xmpp:omemo:2", Local: "encrypted"},
	{Space: "eu.siacs.conversations.axolotl", Local: "encrypted"},
	{Space: "urn:xmpp:openpgp:0", Local: "openpgp"},
	{Space: "jabber:x:encrypted", Local: "x"},
}

// Archivable reports whether a user archive keeps a message: a message of
// type chat or normal (or no type) with a body, an encrypted payload or a
// <store/> hint, and without a <no-store/> or <no-permanent-store/> hint
// (XEP-0334). Groupchat, headline and error messages are not archived.
func Archivable(s *stanza.Stanza) bool {
	if s.Name != stanza.Message {
		return false
	}
	switch s.Type {
	case "", "normal", "chat":
	default:
		return false
	}
	keep := false
	for _, c := range s.Children() {
		switch {
		case c.Name.Space == NSHints && (c.Name.Local == "no-store" || c.Name.Local == "no-permanent-store"):
			return false
		case c.Name.Space == NSHints && c.Name.Local == "store":
			keep = true
		case c.Name.Space == stanza.NSClient && c.Name.Local == "body":
			keep = true
		case isEncrypted(c.Name):
			keep = true
		}
	}
	return keep
}

func isEncrypted(name xml.Name) bool {
	for _, n := range encryptedPayloads {
		if n == name {
			return true
		}
	}
	return false
}

// Append stores message s in the archive of o, the conversation partner
// being with, and returns the archive id. It stores s as serialized now:
// call it before AddStanzaID, so that the stored copy has no stanza-id of
// its own archive (the result's id attribute carries it).
func Append(ctx context.Context, a storage.Archive, o storage.Owner, with jid.JID, s *stanza.Stanza) (string, error) {
	m := storage.ArchivedMessage{
		With:   with.String(),
		Time:   time.Now().UTC(),
		Stanza: s.AppendXML(nil, stanza.NSClient),
	}
	id, err := a.AppendArchive(ctx, o, m)
	if err != nil {
		return "", fmt.Errorf("mam: append to the archive of %s: %w", o, err)
	}
	return id, nil
}

// AddStanzaID appends <stanza-id xmlns='urn:xmpp:sid:0' id='id' by='by'/>
// to the content of s, leaving the bytes before it unchanged.
func AddStanzaID(s *stanza.Stanza, id string, by jid.JID) {
	el := stanza.NewElement(NSStanzaID, "stanza-id", "id", id, "by", by.String())
	inner := el.AppendXML(append([]byte(nil), s.Inner...), stanza.NSClient)
	replaceInner(s, inner)
}

// StripStanzaIDs removes the <stanza-id/> children of s whose 'by' is the
// JID by. XEP-0359 makes an entity that generates stanza-ids override any
// that claim its address, so that a sender cannot forge them. It removes
// only those elements' bytes and reports whether it removed any.
func StripStanzaIDs(s *stanza.Stanza, by jid.JID) bool {
	if !mentionsStanzaID(s) {
		return false
	}
	spans, err := forgedSpans(s, by)
	if err != nil || len(spans) == 0 {
		// The reader has checked the content, so a parse error is not
		// expected. If one occurs, the message passes unchanged.
		return false
	}
	inner := make([]byte, 0, len(s.Inner))
	last := 0
	for _, sp := range spans {
		inner = append(inner, s.Inner[last:sp[0]]...)
		last = sp[1]
	}
	inner = append(inner, s.Inner[last:]...)
	replaceInner(s, inner)
	return true
}

// mentionsStanzaID reports whether the stanza-id namespace appears in s at
// all, which lets most messages skip the parse.
func mentionsStanzaID(s *stanza.Stanza) bool {
	ns := []byte(NSStanzaID)
	if bytes.Contains(s.Inner, ns) {
		return true
	}
	for _, a := range s.Attrs {
		if bytes.Contains([]byte(a.Value), ns) {
			return true
		}
	}
	return false
}

// forgedSpans returns the byte ranges in s.Inner of the stanza-id children
// whose 'by' equals by. It parses the whole stanza, so that namespace
// prefixes declared on the start tag resolve.
func forgedSpans(s *stanza.Stanza, by jid.JID) ([][2]int, error) {
	full := s.AppendXML(nil, stanza.NSClient)
	base := len(full) - len(s.Inner) - len("</>") - len(s.Name)
	d := xml.NewDecoder(bytes.NewReader(full))
	d.Strict = true
	var spans [][2]int
	depth, start, forged := 0, 0, false
	for {
		offset := int(d.InputOffset())
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return spans, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				start = offset
				forged = t.Name == xml.Name{Space: NSStanzaID, Local: "stanza-id"} && claims(t, by)
			}
		case xml.EndElement:
			depth--
			if depth == 1 && forged {
				spans = append(spans, [2]int{start - base, int(d.InputOffset()) - base})
				forged = false
			}
		}
	}
}

// claims reports whether the element's 'by' attribute is the JID by.
func claims(el xml.StartElement, by jid.JID) bool {
	for _, a := range el.Attr {
		if a.Name.Space == "" && a.Name.Local == "by" {
			j, err := jid.Parse(a.Value)
			return err == nil && j.Equal(by)
		}
	}
	return false
}

// replaceInner sets the content of s, dropping its cached element tree.
func replaceInner(s *stanza.Stanza, inner []byte) {
	c := s.Copy()
	c.Inner = inner
	*s = *c
}
