package adhoc

import (
	"testing"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

func TestSubmittedForm(t *testing.T) {
	cmd, err := stanza.ParseElement([]byte(`<command xmlns='http://jabber.org/protocol/commands' node='n'>`+
		`<x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/admin</value></field>`+
		`<field var='announcement'><value>line one</value><value>line two</value></field>`+
		`<field var='empty'/>`+
		`</x></command>`), NS)
	if err != nil {
		t.Fatal(err)
	}
	v := submittedForm(cmd)
	if got := v.Text("announcement"); got != "line one\nline two" {
		t.Errorf("Text(announcement) = %q", got)
	}
	if got := v.Get("FORM_TYPE"); got != "http://jabber.org/protocol/admin" {
		t.Errorf("Get(FORM_TYPE) = %q", got)
	}
	if !v.Has("empty") || v.Get("empty") != "" {
		t.Errorf("empty field: Has = %v, Get = %q", v.Has("empty"), v.Get("empty"))
	}
	if v.Has("missing") {
		t.Error("Has(missing) = true")
	}
	noForm := stanza.NewElement(NS, "command")
	if submittedForm(noForm) != nil {
		t.Error("a command without a form returned values")
	}
}

func TestNewForm(t *testing.T) {
	x := NewForm("Title", "Fill it in",
		Field{Var: "FORM_TYPE", Type: FieldHidden, Values: []string{"urn:example"}},
		Field{Var: "body", Type: FieldTextMulti, Label: "Body", Required: true, Values: []string{"a", "b"}})
	if x.AttrValue("type") != "form" || x.Child(NSData, "title").Text() != "Title" {
		t.Errorf("form header: %s", x)
	}
	fields := x.ChildrenNamed(NSData, "field")
	if len(fields) != 2 {
		t.Fatalf("fields = %d, want 2: %s", len(fields), x)
	}
	body := fields[1]
	if body.AttrValue("label") != "Body" || body.Child(NSData, "required") == nil || len(body.ChildrenNamed(NSData, "value")) != 2 {
		t.Errorf("body field: %s", body)
	}
}

func TestVisibleCommands(t *testing.T) {
	_, r := newRegistry(t)
	tests := []struct {
		requester string
		want      []string
	}{
		{romeo, []string{"wizard", "open"}},
		{"juliet@localhost/balcony", []string{"open"}},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range r.visible(jid.MustParse(tt.requester)) {
			got = append(got, c.Node)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
			t.Errorf("visible(%s) = %v, want %v", tt.requester, got, tt.want)
		}
	}
}
