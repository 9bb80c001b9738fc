package pep

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strings"

	"tern/stanza"
)

// rawPayload returns the bytes of the payload element of a publish request
// exactly as the client sent them, so that signed or encrypted payloads
// such as OMEMO bundles reach readers unchanged. It falls back to
// serializing el, the payload as parsed in the stanza's context, when the
// sent bytes do not stand alone: when the payload leaves its namespace to
// be inherited, or uses a prefix declared on an ancestor.
func rawPayload(iq *stanza.Stanza, el *stanza.Element) []byte {
	if raw := findPublishPayload(iq); raw != nil {
		standalone, err := stanza.ParseElement(raw, "")
		if err == nil && equalElements(standalone, el) {
			return raw
		}
	}
	return []byte(el.String())
}

// publishPath is the path from the iq to the item of a publish request.
var publishPath = []xml.Name{
	{Space: stanza.NSClient, Local: "iq"},
	{Space: NS, Local: "pubsub"},
	{Space: NS, Local: "publish"},
	{Space: NS, Local: "item"},
}

// findPublishPayload returns the bytes of the first element inside
// iq/pubsub/publish/item, or nil if there is none.
func findPublishPayload(iq *stanza.Stanza) []byte {
	buf := iq.AppendXML(nil, stanza.NSClient)
	d := xml.NewDecoder(bytes.NewReader(buf))
	d.Strict = true
	depth := 0
	for {
		// Before Token, the offset is where the next token begins.
		start := d.InputOffset()
		tok, err := d.Token()
		if err != nil {
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == len(publishPath) {
				if d.Skip() != nil {
					return nil
				}
				return buf[start:d.InputOffset()]
			}
			if t.Name != publishPath[depth] {
				if d.Skip() != nil {
					return nil
				}
				continue
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// equalElements reports whether two parsed elements have the same names,
// attributes and content.
func equalElements(a, b *stanza.Element) bool {
	if a.Name != b.Name || !slices.Equal(a.Attr, b.Attr) || len(a.Children) != len(b.Children) {
		return false
	}
	for i, ca := range a.Children {
		switch ca := ca.(type) {
		case stanza.Text:
			if cb, ok := b.Children[i].(stanza.Text); !ok || cb != ca {
				return false
			}
		case *stanza.Element:
			cb, ok := b.Children[i].(*stanza.Element)
			if !ok || !equalElements(ca, cb) {
				return false
			}
		}
	}
	return true
}

// xmlEscaper escapes text for use in attribute values and character data.
var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", "\"", "&quot;")

// appendItem appends <item id='id'>payload</item>, with the payload bytes
// copied unchanged. The item inherits its namespace from its parent.
func appendItem(b []byte, id string, payload []byte) []byte {
	b = append(b, "<item id='"...)
	b = append(b, xmlEscaper.Replace(id)...)
	b = append(b, "'>"...)
	b = append(b, payload...)
	return append(b, "</item>"...)
}

// appendItems appends <items node='node'> with the given items, in the
// namespace in scope.
func appendItems(b []byte, node string, items []item) []byte {
	b = append(b, "<items node='"...)
	b = append(b, xmlEscaper.Replace(node)...)
	b = append(b, "'>"...)
	for _, it := range items {
		b = appendItem(b, it.ID, it.Payload)
	}
	return append(b, "</items>"...)
}

// wrap returns inner inside <local xmlns='ns'>…</local>.
func wrap(local, ns string, inner []byte) []byte {
	b := make([]byte, 0, len(inner)+2*len(local)+len(ns)+16)
	b = append(b, '<')
	b = append(b, local...)
	b = append(b, " xmlns='"...)
	b = append(b, xmlEscaper.Replace(ns)...)
	b = append(b, "'>"...)
	b = append(b, inner...)
	b = append(b, "</"...)
	b = append(b, local...)
	return append(b, '>')
}

// item is a published item as the module sends it: an id and the
// payload's serialized XML.
type item struct {
	ID      string
	Payload []byte
}
