package mam

import (
	"errors"
	"slices"
	"testing"
	"time"

	"tern/stanza"
)

// parseQuery parses a <query/> element given as XML.
func parseQuery(t *testing.T, xml string) (Query, error) {
	t.Helper()
	el, err := stanza.ParseElement([]byte(xml), "")
	if err != nil {
		t.Fatalf("ParseElement(%s): %v", xml, err)
	}
	return ParseQuery(el)
}

const (
	formStart = "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>"
	formEnd   = "</x>"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want Query
	}{
		{"empty", "<query xmlns='urn:xmpp:mam:2'/>", Query{Max: -1}},
		{"queryid", "<query xmlns='urn:xmpp:mam:2' queryid='f27'/>", Query{ID: "f27", Max: -1}},
		{
			"every field",
			"<query xmlns='urn:xmpp:mam:2'>" + formStart +
				"<field var='with'><value>Juliet@Capulet.example/Balcony</value></field>" +
				"<field var='start'><value>2010-06-07T00:00:00Z</value></field>" +
				"<field var='end'><value>2010-07-07T13:23:54.5+02:00</value></field>" +
				"<field var='after-id'><value>a1</value></field>" +
				"<field var='before-id'><value>b2</value></field>" +
				"<field var='ids' type='list-multi'><value>i1</value><value>i2</value></field>" +
				formEnd + "</query>",
			Query{
				Max: -1, With: "juliet@capulet.example/Balcony",
				Start: time.Date(2010, 6, 7, 0, 0, 0, 0, time.UTC), End: time.Date(2010, 7, 7, 11, 23, 54, 500e6, time.UTC),
				AfterID: "a1", BeforeID: "b2", IDs: []string{"i1", "i2"},
			},
		},
		{"form without FORM_TYPE", "<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data'><field var='with'><value>a@b</value></field></x></query>", Query{Max: -1, With: "a@b"}},
		{"field without value", "<query xmlns='urn:xmpp:mam:2'>" + formStart + "<field var='start'/>" + formEnd + "</query>", Query{Max: -1}},
		{
			"rsm after",
			"<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>x1</after></set></query>",
			Query{Max: 10, After: "x1"},
		},
		{
			"rsm empty before",
			"<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><max>0</max><before/></set></query>",
			Query{Max: 0, Last: true},
		},
		{
			"rsm before id and flip",
			"<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><before> x2 </before></set><flip-page/></query>",
			Query{Max: -1, Before: "x2", Last: true, Flip: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseQuery(t, tt.xml)
			if err != nil {
				t.Fatalf("ParseQuery: %v", err)
			}
			if !equalQuery(got, tt.want) {
				t.Errorf("ParseQuery =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func equalQuery(a, b Query) bool {
	return a.ID == b.ID && a.With == b.With && a.Start.Equal(b.Start) && a.End.Equal(b.End) &&
		a.AfterID == b.AfterID && a.BeforeID == b.BeforeID && slices.Equal(a.IDs, b.IDs) &&
		a.Max == b.Max && a.After == b.After && a.Before == b.Before && a.Last == b.Last && a.Flip == b.Flip
}

func TestParseQueryErrors(t *testing.T) {
	field := func(name, value string) string {
		return "<query xmlns='urn:xmpp:mam:2'>" + formStart + "<field var='" + name + "'><value>" + value + "</value></field>" + formEnd + "</query>"
	}
	rsm := func(inner string) string {
		return "<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>" + inner + "</set></query>"
	}
	tests := []struct {
		name, xml, want string
	}{
		{"wrong element", "<prefs xmlns='urn:xmpp:mam:2'/>", "bad-request"},
		{"pubsub node", "<query xmlns='urn:xmpp:mam:2' node='n'/>", "feature-not-implemented"},
		{"form type", "<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='form'/></query>", "bad-request"},
		{"FORM_TYPE", field("FORM_TYPE", "urn:xmpp:mam:1"), "bad-request"},
		{"with", field("with", "@example.com"), "bad-request"},
		{"start", field("start", "2010-06-07"), "bad-request"},
		{"end without zone", field("end", "2010-06-07T00:00:00"), "bad-request"},
		{"empty after-id", field("after-id", " "), "bad-request"},
		{"unknown field", field("include-groupchat", "true"), "feature-not-implemented"},
		{"two values", "<query xmlns='urn:xmpp:mam:2'>" + formStart + "<field var='with'><value>a@b</value><value>c@d</value></field>" + formEnd + "</query>", "bad-request"},
		{"negative max", rsm("<max>-5</max>"), "bad-request"},
		{"max not a number", rsm("<max>ten</max>"), "bad-request"},
		{"empty after", rsm("<after/>"), "bad-request"},
		{"index", rsm("<index>10</index>"), "feature-not-implemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseQuery(t, tt.xml)
			var se *stanza.Error
			if !errors.As(err, &se) {
				t.Fatalf("ParseQuery = %v, want a stanza error", err)
			}
			if se.Condition != tt.want {
				t.Errorf("condition = %q, want %q (%v)", se.Condition, tt.want, se)
			}
		})
	}
}

func TestStorageQueryKeepsTighterBounds(t *testing.T) {
	tests := []struct {
		name          string
		q             Query
		after, before string
	}{
		{"form only", Query{AfterID: "b", BeforeID: "y"}, "b", "y"},
		{"rsm only", Query{After: "c", Before: "x"}, "c", "x"},
		{"rsm after later", Query{AfterID: "b", After: "c"}, "c", ""},
		{"form after later", Query{AfterID: "d", After: "c"}, "d", ""},
		{"rsm before earlier", Query{BeforeID: "y", Before: "x"}, "", "x"},
		{"form before earlier", Query{BeforeID: "w", Before: "x"}, "", "w"},
	}
	for _, tt := range tests {
		sq := tt.q.storageQuery()
		if sq.AfterID != tt.after || sq.BeforeID != tt.before {
			t.Errorf("%s: bounds %q, %q, want %q, %q", tt.name, sq.AfterID, sq.BeforeID, tt.after, tt.before)
		}
	}
}
