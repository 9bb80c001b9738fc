package mam

import (
	"errors"
	"slices"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

func TestPrefsArchives(t *testing.T) {
	prefs := Prefs{
		Always: []string{"nurse@capulet.example", "tybalt@capulet.example/sword"},
		Never:  []string{"romeo@montague.example", "nurse@capulet.example/kitchen"},
	}
	tests := []struct {
		mode     string
		contact  string
		inRoster bool
		want     bool
	}{
		{ModeAlways, "mercutio@verona.example", false, true},
		{ModeNever, "mercutio@verona.example", true, false},
		{ModeRoster, "mercutio@verona.example", true, true},
		{ModeRoster, "mercutio@verona.example", false, false},
		{ModeAlways, "romeo@montague.example/orchard", false, false},
		{ModeNever, "nurse@capulet.example/garden", false, true},
		{ModeAlways, "nurse@capulet.example/kitchen", false, false},
		{ModeNever, "tybalt@capulet.example/sword", false, true},
		{ModeNever, "tybalt@capulet.example/dagger", false, false},
		{ModeNever, "tybalt@capulet.example", false, false},
	}
	for _, tt := range tests {
		p := prefs
		p.Default = tt.mode
		called := false
		got := p.Archives(jid.MustParse(tt.contact), func() bool { called = true; return tt.inRoster })
		if got != tt.want {
			t.Errorf("default %s, contact %s, in roster %v: Archives = %v, want %v", tt.mode, tt.contact, tt.inRoster, got, tt.want)
		}
		if called && tt.mode != ModeRoster {
			t.Errorf("default %s looked up the roster", tt.mode)
		}
	}
}

func TestParsePrefsRoundTrip(t *testing.T) {
	el, err := stanza.ParseElement([]byte("<prefs xmlns='urn:xmpp:mam:2' default='roster'>"+
		"<always><jid>Romeo@Montague.example</jid><jid>romeo@montague.example</jid></always>"+
		"<never><jid>montague.example</jid></never></prefs>"), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePrefs(el)
	if err != nil {
		t.Fatalf("ParsePrefs: %v", err)
	}
	if p.Default != ModeRoster || !slices.Equal(p.Always, []string{"romeo@montague.example"}) || !slices.Equal(p.Never, []string{"montague.example"}) {
		t.Errorf("ParsePrefs = %+v", p)
	}
	again, err := ParsePrefs(p.Element())
	if err != nil {
		t.Fatalf("ParsePrefs(Element()): %v", err)
	}
	if again.Default != p.Default || !slices.Equal(again.Always, p.Always) || !slices.Equal(again.Never, p.Never) {
		t.Errorf("round trip = %+v, want %+v", again, p)
	}
}

func TestParsePrefsErrors(t *testing.T) {
	tests := []struct {
		xml, want string
	}{
		{"<prefs xmlns='urn:xmpp:mam:2'/>", "bad-request"},
		{"<prefs xmlns='urn:xmpp:mam:2' default='sometimes'/>", "bad-request"},
		{"<query xmlns='urn:xmpp:mam:2' default='always'/>", "bad-request"},
		{"<prefs xmlns='urn:xmpp:mam:2' default='always'><never><jid>@bad</jid></never></prefs>", "jid-malformed"},
	}
	for _, tt := range tests {
		el, err := stanza.ParseElement([]byte(tt.xml), "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParsePrefs(el)
		var se *stanza.Error
		if !errors.As(err, &se) || se.Condition != tt.want {
			t.Errorf("ParsePrefs(%s) = %v, want %s", tt.xml, err, tt.want)
		}
	}
}
