package multicast

import (
	"fmt"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

func header(t *testing.T, addrs string) *stanza.Element {
	t.Helper()
	el, err := stanza.ParseElement([]byte(fmt.Sprintf("<addresses xmlns='%s'>%s</addresses>", NS, addrs)), NS)
	if err != nil {
		t.Fatalf("parse header: %v", err)
	}
	return el
}

// describe renders a header as "type:jid[*]" items, * marking delivered.
func describe(h *stanza.Element) string {
	var parts []string
	for _, a := range h.ChildrenNamed(NS, "address") {
		s := a.AttrValue("type") + ":" + a.AttrValue("jid")
		if a.AttrValue("delivered") == "true" {
			s += "*"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		addrs string
		max   int
		want  string
	}{
		{"no type", `<address jid='a@x'/>`, 10, "bad-request"},
		{"to without jid", `<address type='to' desc='someone'/>`, 10, "jid-malformed"},
		{"uri", `<address type='cc' uri='sip:a@x'/>`, 10, "jid-malformed"},
		{"jid and uri", `<address type='to' jid='a@x' uri='sip:a@x'/>`, 10, "jid-malformed"},
		{"invalid jid", `<address type='bcc' jid='a@@x'/>`, 10, "jid-malformed"},
		{"empty label", `<address type='to' jid='a@x..y'/>`, 10, "jid-malformed"},
		{"too many", `<address type='to' jid='a@x'/><address type='cc' jid='b@x'/><address type='bcc' jid='c@x'/>`, 2, "not-acceptable"},
		{"duplicates count", `<address type='to' jid='a@x'/><address type='to' jid='a@x'/><address type='to' jid='a@x'/>`, 2, "not-acceptable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseHeader(header(t, tt.addrs), tt.max)
			se, ok := err.(*stanza.Error)
			if !ok || se.Condition != tt.want {
				t.Errorf("error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestParseHeaderLimitIgnoresOtherTypes(t *testing.T) {
	h := header(t, `<address type='to' jid='a@x'/><address type='replyto' jid='r@x'/><address type='noreply'/>`+
		`<address type='to' jid='done@x' delivered='true'/>`)
	if _, err := parseHeader(h, 1); err != nil {
		t.Errorf("one receiver with a limit of 1: %v", err)
	}
}

func TestParseHeaderPlan(t *testing.T) {
	tests := []struct {
		name  string
		addrs string
		// want maps each recipient, in delivery order, to the header its
		// copy carries.
		want []string
	}{
		{
			"to cc bcc",
			`<address type='to' jid='a@x'/><address type='cc' jid='b@y'/><address type='bcc' jid='c@x'/>`,
			[]string{
				"a@x => to:a@x* cc:b@y*",
				"b@y => to:a@x* cc:b@y*",
				"c@x => to:a@x* cc:b@y* bcc:c@x",
			},
		},
		{
			// Addresses compare in normalized form but are shown as
			// written.
			"duplicates delivered once",
			`<address type='to' jid='a@x'/><address type='cc' jid='A@X'/><address type='bcc' jid='a@x'/><address type='bcc' jid='c@x'/><address type='bcc' jid='c@x'/>`,
			[]string{
				"a@x => to:a@x* cc:A@X*",
				"c@x => to:a@x* cc:A@X* bcc:c@x",
			},
		},
		{
			"bcc then to is public",
			`<address type='bcc' jid='a@x'/><address type='to' jid='a@x'/><address type='bcc' jid='d@x'/>`,
			[]string{
				"a@x => to:a@x*",
				"d@x => to:a@x* bcc:d@x",
			},
		},
		{
			"bare and full are distinct",
			`<address type='to' jid='a@x'/><address type='to' jid='a@x/phone'/>`,
			[]string{
				"a@x => to:a@x* to:a@x/phone*",
				"a@x/phone => to:a@x* to:a@x/phone*",
			},
		},
		{
			"other types pass along",
			`<address type='replyto' jid='r@x'/><address type='to' jid='a@x'/><address type='noreply'/>`,
			[]string{"a@x => replyto:r@x to:a@x* noreply:"},
		},
		{
			"delivered skipped",
			`<address type='to' jid='done@x' delivered='true'/><address type='bcc' jid='old@x' delivered='true'/><address type='cc' jid='b@x'/>`,
			[]string{"b@x => to:done@x* cc:b@x*"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseHeader(header(t, tt.addrs), 100)
			if err != nil {
				t.Fatalf("parseHeader: %v", err)
			}
			var got []string
			for _, r := range p.recipients {
				got = append(got, r.jid.String()+" => "+describe(p.headerFor(r)))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestPresenceTracker(t *testing.T) {
	tr := newPresenceTracker()
	sender := jid.MustParse("romeo@x/orchard")
	rs := func(js ...string) []recipient {
		var out []recipient
		for _, j := range js {
			out = append(out, recipient{jid: jid.MustParse(j), bcc: -1})
		}
		return out
	}
	tr.record(sender, "", rs("a@x", "b@y"))
	tr.record(sender, "unavailable", rs("a@x"))
	tr.record(sender, "probe", rs("c@x"))
	got := tr.take(sender)
	if len(got) != 1 || got[0].String() != "b@y" {
		t.Errorf("take = %v, want [b@y]", got)
	}
	if again := tr.take(sender); len(again) != 0 {
		t.Errorf("second take = %v, want none", again)
	}
}
