package mam

import (
	"strconv"
	"strings"
	"time"

	"tern/stanza"
)

// Query is a parsed archive query: the filters of its data form, its
// result set management (RSM) paging, and the options of <query/>.
type Query struct {
	// ID is the queryid attribute, echoed in every result.
	ID string

	// With is the normalized JID of the 'with' field: a bare JID matches
	// every resource, a full JID only that resource.
	With string
	// Start and End bound the archive time, both inclusive.
	Start, End time.Time
	// AfterID and BeforeID are the after-id and before-id fields, which
	// select the messages strictly between them without changing the page
	// direction.
	AfterID, BeforeID string
	// IDs is the ids field: only these messages match.
	IDs []string

	// Max is the RSM page size, -1 when the query gave none.
	Max int
	// After is the RSM <after/> id.
	After string
	// Before is the RSM <before/> id, "" for an empty <before/>.
	Before string
	// Last is set by an RSM <before/> element, empty or not: the page is
	// the last one of the matches (before Before, when given).
	Last bool
	// Flip requests the page's messages in reverse order (<flip-page/>).
	Flip bool
}

// ParseQuery reads a <query xmlns='urn:xmpp:mam:2'/> element. It returns a
// *stanza.Error: bad-request for an invalid value and
// feature-not-implemented for a form field or RSM element it does not
// support, as XEP-0313 and XEP-0059 require.
func ParseQuery(payload *stanza.Element) (Query, error) {
	q := Query{ID: payload.AttrValue("queryid"), Max: -1}
	if payload.Name.Space != NS || payload.Name.Local != "query" {
		return Query{}, stanza.BadRequest.WithText("expected a query element")
	}
	if payload.HasAttr("node") {
		return Query{}, stanza.FeatureNotImplemented.WithText("pubsub node archives are not supported")
	}
	if x := payload.Child(NSData, "x"); x != nil {
		if err := q.parseForm(x); err != nil {
			return Query{}, err
		}
	}
	if set := payload.Child(NSRSM, "set"); set != nil {
		if err := q.parseRSM(set); err != nil {
			return Query{}, err
		}
	}
	q.Flip = payload.Child(NS, "flip-page") != nil
	return q, nil
}

// parseForm reads the filter fields of a submitted data form (XEP-0004).
func (q *Query) parseForm(x *stanza.Element) error {
	if typ := x.AttrValue("type"); typ != "" && typ != "submit" {
		return stanza.BadRequest.WithText("the query form must be of type submit")
	}
	for _, f := range x.ChildrenNamed(NSData, "field") {
		if err := q.parseField(f); err != nil {
			return err
		}
	}
	return nil
}

// parseField reads one form field. A field without a value is ignored.
func (q *Query) parseField(f *stanza.Element) error {
	name := f.AttrValue("var")
	var values []string
	for _, v := range f.ChildrenNamed(NSData, "value") {
		values = append(values, strings.TrimSpace(v.Text()))
	}
	if name == "ids" {
		q.IDs = append(q.IDs, values...)
		return nil
	}
	if !knownField(name) {
		return stanza.FeatureNotImplemented.WithText("unsupported form field: " + name)
	}
	switch len(values) {
	case 0:
		return nil
	case 1:
	default:
		return stanza.BadRequest.WithText("form field " + name + " takes one value")
	}
	return q.setField(name, values[0])
}

func knownField(name string) bool {
	switch name {
	case "FORM_TYPE", "with", "start", "end", "after-id", "before-id":
		return true
	}
	return false
}

// setField stores the value of a single-valued field.
func (q *Query) setField(name, value string) error {
	var err error
	switch name {
	case "FORM_TYPE":
		if value != NS {
			return stanza.BadRequest.WithText("FORM_TYPE must be " + NS)
		}
	case "with":
		j, perr := stanza.ParseJID(value)
		if perr != nil {
			return stanza.BadRequest.WithText("with is not a valid JID")
		}
		q.With = j.String()
	case "start":
		q.Start, err = parseDateTime(name, value)
	case "end":
		q.End, err = parseDateTime(name, value)
	case "after-id", "before-id":
		if value == "" {
			return stanza.BadRequest.WithText(name + " must not be empty")
		}
		if name == "after-id" {
			q.AfterID = value
		} else {
			q.BeforeID = value
		}
	}
	return err
}

// parseDateTime parses an XEP-0082 DateTime, such as
// 2010-06-07T00:00:00Z or 2010-06-07T02:00:00.123+02:00.
func parseDateTime(field, value string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return time.Time{}, stanza.BadRequest.WithText(field + " is not an XEP-0082 date and time (such as 2010-06-07T00:00:00Z)")
	}
	return t.UTC(), nil
}

// parseRSM reads the RSM <set/> of the query (XEP-0059).
func (q *Query) parseRSM(set *stanza.Element) error {
	if set.Child(NSRSM, "index") != nil {
		return stanza.FeatureNotImplemented.WithText("paging by index is not supported; page with after and before")
	}
	if el := set.Child(NSRSM, "max"); el != nil {
		n, err := strconv.Atoi(strings.TrimSpace(el.Text()))
		if err != nil || n < 0 {
			return stanza.BadRequest.WithText("max must be a non-negative integer")
		}
		q.Max = n
	}
	if el := set.Child(NSRSM, "after"); el != nil {
		q.After = strings.TrimSpace(el.Text())
		if q.After == "" {
			return stanza.BadRequest.WithText("after must name an archive id")
		}
	}
	if el := set.Child(NSRSM, "before"); el != nil {
		q.Before = strings.TrimSpace(el.Text())
		q.Last = true
	}
	return nil
}
