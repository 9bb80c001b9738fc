package multicast

import (
	"fmt"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// Address types of XEP-0033 §4.2 that the service delivers to. The other
// types (replyto, replyroom, noreply, ofrom and any unknown one) are
// passed along unchanged.
const (
	typeTo  = "to"
	typeCc  = "cc"
	typeBcc = "bcc"
)

// recipient is one distinct address the stanza is delivered to.
type recipient struct {
	jid jid.JID
	// bcc is the index of the recipient's bcc address in the header, or
	// -1 when the recipient is also a to or cc address and so gets the
	// public header.
	bcc int
}

// plan is the delivery of one stanza: its recipients, and the address
// headers their copies carry.
type plan struct {
	// header is the <addresses/> element of the outer stanza.
	header *stanza.Element
	// public are the address elements every copy carries, in the
	// header's order: nil at the index of a bcc address, to and cc
	// addresses marked delivered='true' (XEP-0033 §4.3).
	public     []*stanza.Element
	bccs       []*stanza.Element // the header's address elements, by index; non-nil for bcc only
	recipients []recipient       // distinct, in the order of first mention
}

// parseHeader checks an <addresses/> header and plans its delivery.
// Addresses already marked delivered='true' are not delivered again. The
// errors are the *stanza.Error values of XEP-0033 §6. A to, cc or bcc
// address without a valid 'jid' gets jid-malformed, and so does one with
// a 'uri', which the service does not support. More than max such
// addresses get not-acceptable, and an address without a type gets
// bad-request.
func parseHeader(header *stanza.Element, max int) (*plan, error) {
	p := &plan{header: header}
	index := make(map[string]int) // JID → index in p.recipients
	receivers := 0
	for _, a := range header.ChildrenNamed(NS, "address") {
		typ := a.AttrValue("type")
		if typ == "" {
			return nil, stanza.BadRequest.WithText("an address has no type")
		}
		receiver := typ == typeTo || typ == typeCc || typ == typeBcc
		if !receiver || a.AttrValue("delivered") == "true" {
			if typ == typeBcc {
				p.add(nil, nil) // never shown to other recipients
			} else {
				p.add(a, nil)
			}
			continue
		}
		receivers++
		if receivers > max {
			return nil, stanza.NotAcceptable.WithText(fmt.Sprintf("too many addresses; the limit is %d", max))
		}
		j, err := addressJID(a)
		if err != nil {
			return nil, err
		}
		key := j.String()
		i, seen := index[key]
		if !seen {
			i = len(p.recipients)
			index[key] = i
			p.recipients = append(p.recipients, recipient{jid: j, bcc: -1})
		}
		if typ == typeBcc {
			if !seen {
				p.recipients[i].bcc = len(p.public)
			}
			p.add(nil, a)
			continue
		}
		p.recipients[i].bcc = -1 // a to or cc recipient gets the public header
		p.add(delivered(a), nil)
	}
	return p, nil
}

// add appends one address of the header: the element every copy shows,
// and the bcc address that only its recipient gets.
func (p *plan) add(public, bcc *stanza.Element) {
	p.public = append(p.public, public)
	p.bccs = append(p.bccs, bcc)
}

// addressJID returns the JID of a to, cc or bcc address.
func addressJID(a *stanza.Element) (jid.JID, error) {
	if a.HasAttr("uri") {
		return jid.JID{}, stanza.JIDMalformed.WithText("uri addresses are not supported; use jid")
	}
	raw := a.AttrValue("jid")
	if raw == "" {
		return jid.JID{}, stanza.JIDMalformed.WithText("a " + a.AttrValue("type") + " address has no jid")
	}
	j, err := stanza.ParseJID(raw)
	if err != nil {
		return jid.JID{}, stanza.JIDMalformed.WithText(fmt.Sprintf("invalid address jid %q", raw))
	}
	return j, nil
}

// delivered returns a copy of address a marked delivered='true'.
func delivered(a *stanza.Element) *stanza.Element {
	c := *a
	c.Attr = append(c.Attr[:0:0], a.Attr...)
	c.SetAttr("delivered", "true")
	return &c
}

// headerFor returns the <addresses/> element that r's copy carries: the
// public addresses, plus r's own bcc address in its place (XEP-0033 §4.2:
// a bcc recipient sees only its own bcc address).
func (p *plan) headerFor(r recipient) *stanza.Element {
	h := stanza.NewElement(NS, "addresses")
	for i, a := range p.public {
		switch {
		case a != nil:
			h.Add(a)
		case i == r.bcc:
			h.Add(p.bccs[i])
		}
	}
	return h
}
