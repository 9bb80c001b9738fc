package mam

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"strconv"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// stampLayout formats XEP-0082 timestamps with the microsecond precision
// of the archive, so that a stamp used as a start or end filter selects
// the message it came from.
const stampLayout = "2006-01-02T15:04:05.000000Z"

// Answer serves an archive query (an iq of type set with a <query/>) on
// the archive of o, whose address is archive: it parses the query, passes
// each result message to deliver in order, and returns the iq result with
// the <fin/> element. The caller checks that the requester may read the
// archive, and deliver must queue the messages ahead of the iq result.
func Answer(ctx context.Context, a storage.Archive, o storage.Owner, archive jid.JID, iq *stanza.Stanza,
	payload *stanza.Element, maxPage int, deliver func(*stanza.Stanza)) (*stanza.Stanza, error) {
	q, err := ParseQuery(payload)
	if err != nil {
		return nil, err
	}
	p, err := Run(ctx, a, o, q, maxPage)
	if err != nil {
		return nil, err
	}
	SendResults(deliver, iq.From, archive, q.ID, p)
	return stanza.Result(iq, p.Fin()), nil
}

// SendResults passes one result message per archived message of p to
// deliver, oldest first unless p.Flip is set.
func SendResults(deliver func(*stanza.Stanza), to, archive jid.JID, queryID string, p Page) {
	n := len(p.Messages)
	for i := range n {
		m := p.Messages[i]
		if p.Flip {
			m = p.Messages[n-1-i]
		}
		deliver(ResultMessage(to, archive, queryID, m))
	}
}

// ResultMessage returns the message that carries one archived message to
// the requester. The archived XML is copied into it byte
// for byte.
func ResultMessage(to, archive jid.JID, queryID string, m storage.ArchivedMessage) *stanza.Stanza {
	var b bytes.Buffer
	b.WriteString("<result xmlns='" + NS + "'")
	if queryID != "" {
		writeAttr(&b, "queryid", queryID)
	}
	writeAttr(&b, "id", m.ID)
	b.WriteString("><forwarded xmlns='" + NSForward + "'><delay xmlns='" + stanza.NSDelay + "'")
	writeAttr(&b, "stamp", m.Time.UTC().Format(stampLayout))
	b.WriteString("/>")
	b.Write(m.Stanza)
	b.WriteString("</forwarded></result>")
	return &stanza.Stanza{Name: stanza.Message, To: to, From: archive, Inner: b.Bytes()}
}

func writeAttr(b *bytes.Buffer, name, value string) {
	b.WriteString(" " + name + "='")
	xml.EscapeText(b, []byte(value))
	b.WriteByte('\'')
}

// Fin returns the <fin/> element of the iq result that ends a query, with
// the RSM <first/>, <last/> and <count/> of the page.
// <first/> and <last/> name the oldest and newest message of the page, a
// flipped one too, so that they page the same way.
//
// The optional index of <first/> (XEP-0059) is left out of backward
// pages. The result iterator of slixmpp 1.8.3 stops when index plus page
// size equals the count: right for forward paging, but true of the
// newest page when paging backward, so it would never load an older one.
func (p Page) Fin() *stanza.Element {
	fin := stanza.NewElement(NS, "fin", "complete", strconv.FormatBool(p.Complete))
	set := stanza.NewElement(NSRSM, "set")
	if n := len(p.Messages); n > 0 {
		first := stanza.NewElement(NSRSM, "first").AddText(p.Messages[0].ID)
		if p.Index >= 0 && !p.Backward {
			first.SetAttr("index", strconv.Itoa(p.Index))
		}
		set.Add(first, stanza.NewElement(NSRSM, "last").AddText(p.Messages[n-1].ID))
	}
	if p.Count >= 0 {
		set.Add(stanza.NewElement(NSRSM, "count").AddText(strconv.Itoa(p.Count)))
	}
	return fin.Add(set)
}

// QueryForm returns the <query/> with the data form of the supported
// filter fields, the response to an iq of type get.
func QueryForm() *stanza.Element {
	x := stanza.NewElement(NSData, "x", "type", "form")
	x.Add(stanza.NewElement(NSData, "field", "type", "hidden", "var", "FORM_TYPE").
		Add(stanza.NewElement(NSData, "value").AddText(NS)))
	for _, f := range [][2]string{
		{"jid-single", "with"}, {"text-single", "start"}, {"text-single", "end"},
		{"text-single", "before-id"}, {"text-single", "after-id"},
	} {
		x.Add(stanza.NewElement(NSData, "field", "type", f[0], "var", f[1]))
	}
	validate := stanza.NewElement("http://jabber.org/protocol/xdata-validate", "validate", "datatype", "xs:string").
		Add(stanza.NewElement("http://jabber.org/protocol/xdata-validate", "open"))
	x.Add(stanza.NewElement(NSData, "field", "type", "list-multi", "var", "ids").Add(validate))
	return stanza.NewElement(NS, "query").Add(x)
}

// Metadata returns the <metadata/> element of o's archive: the id and
// time of its first and last message, or no children for an empty
// archive.
func Metadata(ctx context.Context, a storage.Archive, o storage.Owner) (*stanza.Element, error) {
	el := stanza.NewElement(NS, "metadata")
	first, err := a.QueryArchive(ctx, o, storage.ArchiveQuery{Max: 1})
	if err != nil {
		return nil, fmt.Errorf("mam: read the archive metadata of %s: %w", o, err)
	}
	if len(first.Messages) == 0 {
		return el, nil
	}
	last, err := a.QueryArchive(ctx, o, storage.ArchiveQuery{Max: 1, Last: true})
	if err != nil {
		return nil, fmt.Errorf("mam: read the archive metadata of %s: %w", o, err)
	}
	if len(last.Messages) == 0 {
		return el, nil // emptied meanwhile
	}
	return el.Add(boundary("start", first.Messages[0]), boundary("end", last.Messages[0])), nil
}

func boundary(name string, m storage.ArchivedMessage) *stanza.Element {
	return stanza.NewElement(NS, name, "id", m.ID, "timestamp", m.Time.UTC().Format(stampLayout))
}
