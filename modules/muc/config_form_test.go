package muc

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tern/config"
	"tern/stanza"
)

// submitForm returns a submitted data form with one value per field.
func submitForm(t *testing.T, fields ...string) *stanza.Element {
	t.Helper()
	var b strings.Builder
	b.WriteString("<x xmlns='jabber:x:data' type='submit'>")
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&b, "<field var='%s'><value>%s</value></field>", fields[i], fields[i+1])
	}
	b.WriteString("</x>")
	el, err := stanza.ParseElement([]byte(b.String()), "")
	if err != nil {
		t.Fatalf("parse form: %v", err)
	}
	return el
}

func TestApplyForm(t *testing.T) {
	base := defaultConfig(config.MUC{MaxOccupants: 100, HistoryLength: 20})
	got, err := base.applyForm(submitForm(t,
		"FORM_TYPE", nsRoomConfig,
		"muc#roomconfig_roomname", "Capulet Hall",
		"muc#roomconfig_persistentroom", "1",
		"muc#roomconfig_publicroom", "false",
		"muc#roomconfig_membersonly", "true",
		"muc#roomconfig_whois", "anyone",
		"muc#roomconfig_maxusers", "50",
		"muc#roomconfig_allowpm", "moderators",
		"muc#roomconfig_historylength", "5",
		"muc#roomconfig_unknownfield", "ignored",
	), 100, 20)
	if err != nil {
		t.Fatalf("applyForm: %v", err)
	}
	want := base
	want.Name, want.Persistent, want.Public, want.MembersOnly = "Capulet Hall", true, false, true
	want.WhoIs, want.MaxUsers, want.AllowPM, want.HistoryLength = whoisAnyone, 50, pmModerators, 5
	if got != want {
		t.Errorf("applyForm = %+v\nwant %+v", got, want)
	}
	if empty, err := base.applyForm(submitForm(t), 100, 20); err != nil || empty != base {
		t.Errorf("empty submission (instant room) = %+v, %v; want the defaults", empty, err)
	}
}

func TestApplyFormRejects(t *testing.T) {
	base := defaultConfig(config.MUC{MaxOccupants: 100, HistoryLength: 20})
	cases := []struct {
		name   string
		fields []string
		want   string
	}{
		{"wrong form type", []string{"FORM_TYPE", "urn:other"}, "bad-request"},
		{"bad boolean", []string{"muc#roomconfig_moderatedroom", "yes"}, "not-acceptable"},
		{"bad whois", []string{"muc#roomconfig_whois", "everyone"}, "not-acceptable"},
		{"too many users", []string{"muc#roomconfig_maxusers", "101"}, "not-acceptable"},
		{"no limit when the service has one", []string{"muc#roomconfig_maxusers", "none"}, "not-acceptable"},
		{"zero users", []string{"muc#roomconfig_maxusers", "0"}, "not-acceptable"},
		{"long history", []string{"muc#roomconfig_historylength", "21"}, "not-acceptable"},
		{"password without secret", []string{"muc#roomconfig_passwordprotectedroom", "1"}, "not-acceptable"},
	}
	for _, tc := range cases {
		_, err := base.applyForm(submitForm(t, tc.fields...), 100, 20)
		if got := condition(err); got != tc.want {
			t.Errorf("%s: condition %q, want %q", tc.name, got, tc.want)
		}
	}
	unlimited, err := base.applyForm(submitForm(t, "muc#roomconfig_maxusers", "none"), 0, 20)
	if err != nil || unlimited.MaxUsers != 0 {
		t.Errorf("maxusers none on a service without a limit = %d, %v", unlimited.MaxUsers, err)
	}
}

func TestConfigEncodingRoundTrip(t *testing.T) {
	c := defaultConfig(config.MUC{MaxOccupants: 30, HistoryLength: 7})
	c.Name, c.Password, c.PasswordProtected, c.Logging = "Hall", "s3cret", true, true
	got, err := decodeConfig(c.encode())
	if err != nil || got != c {
		t.Errorf("decodeConfig(encode) = %+v, %v; want %+v", got, err, c)
	}
	if _, err := decodeConfig([]byte("{")); err == nil {
		t.Error("decodeConfig accepted broken JSON")
	}
}

func TestFormShowsValues(t *testing.T) {
	c := defaultConfig(config.MUC{MaxOccupants: 0, HistoryLength: 20})
	c.Persistent = true
	vals := formValues(c.form("Configuration", 0, 20))
	checks := map[string]string{
		"FORM_TYPE":                     nsRoomConfig,
		"muc#roomconfig_persistentroom": "1",
		"muc#roomconfig_publicroom":     "1",
		"muc#roomconfig_maxusers":       "none",
		"muc#roomconfig_whois":          whoisModerators,
		"muc#roomconfig_historylength":  "20",
	}
	for name, want := range checks {
		if got := vals[name]; len(got) != 1 || got[0] != want {
			t.Errorf("form field %s = %v, want %q", name, got, want)
		}
	}
}

func TestParseHistoryLimits(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		attrs string
		want  historyLimits
	}{
		{"", historyLimits{maxStanzas: -1, maxChars: -1}},
		{"maxstanzas='3'", historyLimits{maxStanzas: 3, maxChars: -1}},
		{"maxchars='0'", historyLimits{maxStanzas: -1, maxChars: 0}},
		{"seconds='60'", historyLimits{maxStanzas: -1, maxChars: -1, since: now.Add(-time.Minute)}},
		{"since='2024-05-01T11:00:00Z' seconds='7200'", historyLimits{maxStanzas: -1, maxChars: -1, since: now.Add(-time.Hour)}},
		{"maxstanzas='x' maxchars='-1'", historyLimits{maxStanzas: -1, maxChars: -1}},
	}
	for _, tc := range cases {
		el, err := stanza.ParseElement([]byte("<history xmlns='"+NS+"' "+tc.attrs+"/>"), "")
		if err != nil {
			t.Fatal(err)
		}
		got := parseHistoryLimits(el, now)
		if got.maxStanzas != tc.want.maxStanzas || got.maxChars != tc.want.maxChars || !got.since.Equal(tc.want.since) {
			t.Errorf("parseHistoryLimits(%s) = %+v, want %+v", tc.attrs, got, tc.want)
		}
	}
}

func TestHistoryBuffer(t *testing.T) {
	var h history
	for i := range 5 {
		h.add(historyEntry{id: fmt.Sprint(i)}, 3)
	}
	if len(h.entries) != 3 || h.entries[0].id != "2" {
		t.Fatalf("entries after 5 adds with max 3 = %+v", h.entries)
	}
	h.remove("3")
	if _, ok := h.find("3"); ok || len(h.entries) != 2 {
		t.Errorf("entry 3 still there after remove: %+v", h.entries)
	}
	if e, ok := h.find("4"); !ok || e.id != "4" {
		t.Errorf("find(4) = %+v, %v", e, ok)
	}
	h.trim(1)
	if len(h.entries) != 1 || h.entries[0].id != "4" {
		t.Errorf("trim(1) kept %+v, want the newest", h.entries)
	}
}

func TestTokenBucket(t *testing.T) {
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var b tokenBucket
	for i := range 3 {
		if !b.allow(start, 3) {
			t.Fatalf("message %d of a burst of 3 rejected", i+1)
		}
	}
	if b.allow(start, 3) {
		t.Error("fourth message in the same instant allowed")
	}
	if !b.allow(start.Add(400*time.Millisecond), 3) {
		t.Error("message after a refill of one token rejected")
	}
	if b.allow(start.Add(400*time.Millisecond), 3) {
		t.Error("second message after a refill of one token allowed")
	}
	var unlimited tokenBucket
	for range 100 {
		if !unlimited.allow(start, 0) {
			t.Fatal("rate 0 rejected a message")
		}
	}
}

func TestOccupantID(t *testing.T) {
	svc := &service{idKey: []byte("0123456789abcdef0123456789abcdef")}
	a := svc.occupantID("coven@conference.example.com", "hag66@example.com")
	if a != svc.occupantID("coven@conference.example.com", "hag66@example.com") {
		t.Error("occupant id is not stable")
	}
	if a == svc.occupantID("heath@conference.example.com", "hag66@example.com") {
		t.Error("occupant id is the same in two rooms")
	}
	if a == svc.occupantID("coven@conference.example.com", "crone1@example.com") {
		t.Error("two users have the same occupant id")
	}
	other := &service{idKey: []byte("another key of thirty-two bytes!")}
	if a == other.occupantID("coven@conference.example.com", "hag66@example.com") {
		t.Error("occupant id does not depend on the service secret")
	}
	if len(a) > 128 || strings.Contains(a, "hag66") {
		t.Errorf("occupant id %q is too long or reveals the JID", a)
	}
}
