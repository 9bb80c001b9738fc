package e2e

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tern/internal/xmpptest"
	"tern/modules/mam"
	"tern/stanza"
	"tern/storage"
)

// archived is one result of an archive query.
type archived struct {
	id      string
	stamp   string
	body    string
	message *stanza.Element // the forwarded message
	raw     []byte          // the bytes of the result message's content
}

// queryResult is the outcome of an archive query.
type queryResult struct {
	results []archived
	resp    *stanza.Stanza
	fin     *stanza.Element
}

// complete reports the fin's complete attribute.
func (r queryResult) complete() bool { return r.fin.AttrValue("complete") == "true" }

// rsm returns the text of a child of the fin's RSM set.
func (r queryResult) rsm(name string) string {
	return r.fin.Child(mam.NSRSM, "set").Child(mam.NSRSM, name).Text()
}

func (r queryResult) ids() []string {
	var ids []string
	for _, a := range r.results {
		ids = append(ids, a.id)
	}
	return ids
}

func (r queryResult) bodies() []string {
	var out []string
	for _, a := range r.results {
		out = append(out, a.body)
	}
	return out
}

var queryCounter int

// queryArchive sends an archive query with the given content of <query/>
// (to the account's own archive when to is empty) and collects the result
// messages up to the iq response.
func queryArchive(t *testing.T, c *xmpptest.Client, to, inner string) queryResult {
	t.Helper()
	queryCounter++
	id := fmt.Sprintf("mam%d", queryCounter)
	toAttr := ""
	if to != "" {
		toAttr = " to='" + to + "'"
	}
	c.Sendf("<iq type='set' id='%s'%s><query xmlns='urn:xmpp:mam:2' queryid='%s'>%s</query></iq>", id, toAttr, id, inner)
	var r queryResult
	for {
		el := c.Expect(func(el *stanza.Stanza) bool {
			res := el.Child(mam.NS, "result")
			return xmpptest.IsResponse(id)(el) || res != nil && res.AttrValue("queryid") == id
		})
		if el.Name == stanza.IQ {
			r.resp = el
			r.fin = el.Child(mam.NS, "fin")
			return r
		}
		r.results = append(r.results, parseResult(t, el))
	}
}

// parseResult reads one result message.
func parseResult(t *testing.T, el *stanza.Stanza) archived {
	t.Helper()
	res := el.Child(mam.NS, "result")
	fwd := res.Child(mam.NSForward, "forwarded")
	msg := fwd.Child(stanza.NSClient, "message")
	if msg == nil {
		t.Fatalf("result without a forwarded message: %s", el)
	}
	return archived{
		id:      res.AttrValue("id"),
		stamp:   fwd.Child(stanza.NSDelay, "delay").AttrValue("stamp"),
		body:    msg.Child(stanza.NSClient, "body").Text(),
		message: msg,
		raw:     el.Inner,
	}
}

// form returns a query data form with the given fields.
func form(fields ...string) string {
	var b strings.Builder
	b.WriteString("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>")
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&b, "<field var='%s'><value>%s</value></field>", fields[i], xmpptest.Escape(fields[i+1]))
	}
	b.WriteString("</x>")
	return b.String()
}

func rsmSet(max int, extra string) string {
	return fmt.Sprintf("<set xmlns='http://jabber.org/protocol/rsm'><max>%d</max>%s</set>", max, extra)
}

// storedIDs returns the ids of an account's archive read from storage.
func storedIDs(t *testing.T, s *xmpptest.Server, local string) []string {
	t.Helper()
	a, ok := s.Store().(storage.Archive)
	if !ok {
		t.Fatalf("the store does not implement storage.Archive")
	}
	p, err := a.QueryArchive(context.Background(), storage.Owner{Domain: "localhost", Local: local}, storage.ArchiveQuery{})
	if err != nil {
		t.Fatalf("QueryArchive: %v", err)
	}
	var ids []string
	for _, m := range p.Messages {
		ids = append(ids, m.ID)
	}
	return ids
}

// chat sends n chat messages with bodies prefix0 … prefix<n-1> and waits
// until the server has processed them.
func chat(c *xmpptest.Client, to, prefix string, n int) {
	for i := range n {
		c.Sendf("<message to='%s' type='chat' id='%s%d'><body>%s%04d</body></message>", to, prefix, i, prefix, i)
	}
	c.Barrier()
}

func TestArchivePagesThousandMessages(t *testing.T) {
	const total, size = 1000, 50
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	chat(romeo, "juliet@localhost", "n", total)
	juliet := s.Login("juliet", "j-secret", "balcony!") // no presence, so no offline flood
	want := storedIDs(t, s, "juliet")
	if len(want) != total {
		t.Fatalf("juliet's archive holds %d messages, want %d", len(want), total)
	}

	var forward []string
	after := ""
	for page := 0; ; page++ {
		r := queryArchive(t, juliet, "", rsmSet(size, after))
		checkPage(t, r, page, size, total)
		if got := r.fin.Child(mam.NSRSM, "set").Child(mam.NSRSM, "first").AttrValue("index"); got != strconv.Itoa(page*size) {
			t.Errorf("forward page %d: first index = %q, want %d", page, got, page*size)
		}
		for i, b := range r.bodies() {
			if want := fmt.Sprintf("n%04d", page*size+i); b != want {
				t.Fatalf("forward page %d, result %d: body %q, want %q", page, i, b, want)
			}
		}
		forward = append(forward, r.ids()...)
		if r.complete() {
			break
		}
		after = "<after>" + r.rsm("last") + "</after>"
	}
	if !slices.Equal(forward, want) {
		t.Errorf("paging forwards returned %d ids, not the %d stored ones in order", len(forward), len(want))
	}

	var backward []string
	before := "<before/>"
	for page := 0; ; page++ {
		r := queryArchive(t, juliet, "", rsmSet(size, before))
		checkPage(t, r, page, size, total)
		backward = append(r.ids(), backward...)
		if r.complete() {
			break
		}
		before = "<before>" + r.rsm("first") + "</before>"
	}
	if !slices.Equal(backward, want) {
		t.Errorf("paging backwards returned %d ids, not the %d stored ones in order", len(backward), len(want))
	}
}

// checkPage checks one full page of a 1,000-message archive.
func checkPage(t *testing.T, r queryResult, page, size, total int) {
	t.Helper()
	if r.resp.Type != "result" {
		t.Fatalf("page %d: %s", page, r.resp)
	}
	if len(r.results) != size {
		t.Fatalf("page %d: %d results, want %d", page, len(r.results), size)
	}
	if want := page == total/size-1; r.complete() != want {
		t.Errorf("page %d: complete = %v, want %v", page, r.complete(), want)
	}
	if r.rsm("first") != r.results[0].id || r.rsm("last") != r.results[size-1].id {
		t.Errorf("page %d: RSM first/last %q/%q do not name the first and last result", page, r.rsm("first"), r.rsm("last"))
	}
	if r.rsm("count") != strconv.Itoa(total) {
		t.Errorf("page %d: count = %q, want %d", page, r.rsm("count"), total)
	}
}

func TestArchiveFilters(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	nurse := s.Login("nurse", "n-secret", "chamber")
	chat(juliet, "romeo@localhost", "j", 4)
	chat(nurse, "romeo@localhost/orchard", "n", 3)
	chat(romeo, "juliet@localhost", "r", 2)

	all := queryArchive(t, romeo, "", "")
	if len(all.results) != 9 || !all.complete() {
		t.Fatalf("romeo's archive: %d results, complete %v, want 9 and complete", len(all.results), all.complete())
	}
	ids := all.ids()
	stamp := func(i int) string { return all.results[i].stamp }

	tests := []struct {
		name  string
		inner string
		want  []string // bodies
	}{
		{"with bare contact", form("with", "juliet@localhost"), []string{"j0000", "j0001", "j0002", "j0003", "r0000", "r0001"}},
		{"with full contact", form("with", "nurse@localhost/chamber"), []string{"n0000", "n0001", "n0002"}},
		{"with other resource", form("with", "nurse@localhost/elsewhere"), nil},
		{"start", form("start", stamp(7)), []string{"r0000", "r0001"}},
		{"end", form("end", stamp(1)), []string{"j0000", "j0001"}},
		{"start and end", form("start", stamp(3), "end", stamp(4)), []string{"j0003", "n0000"}},
		{"start and with", form("start", stamp(3), "with", "juliet@localhost"), []string{"j0003", "r0000", "r0001"}},
		{"after-id", form("after-id", ids[6]), []string{"r0000", "r0001"}},
		{"before-id", form("before-id", ids[2]), []string{"j0000", "j0001"}},
		{"after-id and before-id", form("after-id", ids[2], "before-id", ids[5]), []string{"j0003", "n0000"}},
		{"ids", form("ids", ids[5]) + "", []string{"n0001"}},
		{"max below matches", rsmSet(2, ""), []string{"j0000", "j0001"}},
		{"last page", rsmSet(3, "<before/>"), []string{"n0002", "r0000", "r0001"}},
		{"flipped last page", rsmSet(3, "<before/>") + "<flip-page xmlns='urn:xmpp:mam:2'/>", []string{"r0001", "r0000", "n0002"}},
		{"after-id with RSM before", form("after-id", ids[1]) + rsmSet(2, "<before>"+ids[5]+"</before>"), []string{"j0003", "n0000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := queryArchive(t, romeo, "", tt.inner)
			if r.resp.Type != "result" {
				t.Fatalf("query failed: %s", r.resp)
			}
			if got := r.bodies(); !slices.Equal(got, tt.want) {
				t.Errorf("bodies = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestArchiveQueryErrors(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	chat(juliet, "romeo@localhost", "j", 2)
	julietIDs := storedIDs(t, s, "juliet")

	tests := []struct {
		name  string
		inner string
		want  string
	}{
		{"unknown RSM after", rsmSet(5, "<after>no-such-id</after>"), "item-not-found"},
		{"unknown RSM before", rsmSet(5, "<before>no-such-id</before>"), "item-not-found"},
		{"unknown after-id", form("after-id", "no-such-id"), "item-not-found"},
		{"unknown ids", form("ids", "no-such-id"), "item-not-found"},
		{"another archive's id", form("after-id", julietIDs[0]), "item-not-found"},
		{"bad start", form("start", "yesterday"), "bad-request"},
		{"bad with", form("with", "a@@b"), "bad-request"},
		{"bad max", "<set xmlns='http://jabber.org/protocol/rsm'><max>-1</max></set>", "bad-request"},
		{"wrong FORM_TYPE", "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:1</value></field></x>", "bad-request"},
		{"unknown field", form("full-text-search", "balcony"), "feature-not-implemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := queryArchive(t, romeo, "", tt.inner)
			if got := xmpptest.ErrorCondition(r.resp); got != tt.want {
				t.Errorf("condition = %q, want %q (%s)", got, tt.want, r.resp)
			}
			if len(r.results) != 0 {
				t.Errorf("an error response came with %d results", len(r.results))
			}
		})
	}
}

func TestArchiveOfAnotherAccountForbidden(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	nurse := s.Login("nurse", "n-secret", "chamber")
	chat(juliet, "nurse@localhost", "secret", 3)
	chat(nurse, "juliet@localhost", "reply", 3)
	chat(juliet, "romeo@localhost", "hello", 2)

	requests := []string{
		"<iq type='set' id='%s' to='juliet@localhost'><query xmlns='urn:xmpp:mam:2'/></iq>",
		"<iq type='get' id='%s' to='juliet@localhost'><query xmlns='urn:xmpp:mam:2'/></iq>",
		"<iq type='get' id='%s' to='juliet@localhost'><metadata xmlns='urn:xmpp:mam:2'/></iq>",
		"<iq type='get' id='%s' to='juliet@localhost'><prefs xmlns='urn:xmpp:mam:2'/></iq>",
		"<iq type='set' id='%s' to='juliet@localhost'><prefs xmlns='urn:xmpp:mam:2' default='never'/></iq>",
	}
	for i, req := range requests {
		id := fmt.Sprintf("other%d", i)
		resp := romeo.Request(fmt.Sprintf(req, id), id)
		if got := xmpptest.ErrorCondition(resp); got != "forbidden" {
			t.Errorf("request %d to juliet's archive: condition %q, want forbidden (%s)", i, got, resp)
		}
	}
	for _, el := range romeo.Sync() {
		if el.Child(mam.NS, "result") != nil {
			t.Errorf("romeo received a result of juliet's archive: %s", el)
		}
	}

	r := queryArchive(t, romeo, "", "")
	if got := r.bodies(); !slices.Equal(got, []string{"hello0000", "hello0001"}) {
		t.Errorf("romeo's archive = %q, want only juliet's messages to him", got)
	}
	for _, a := range r.results {
		if !bytes.Contains(a.raw, []byte("romeo@localhost")) {
			t.Errorf("result not addressed to or from romeo: %s", a.raw)
		}
	}
	r = queryArchive(t, romeo, "", form("with", "nurse@localhost"))
	if len(r.results) != 0 {
		t.Errorf("romeo's archive with nurse holds %d messages, want none", len(r.results))
	}
	if got := queryArchive(t, juliet, "juliet@localhost", ""); len(got.results) != 8 {
		t.Errorf("juliet's own query with 'to' = %d results, want 8", len(got.results))
	}
}

func TestStanzaIDMatchesArchiveID(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")

	romeo.Send("<message to='juliet@localhost' type='chat' id='sid1'><body>stanza id please</body></message>")
	got := juliet.Expect(xmpptest.IsMessage("stanza id please"))
	p, _ := got.Payload()
	sids := p.ChildrenNamed(mam.NSStanzaID, "stanza-id")
	if len(sids) != 1 {
		t.Fatalf("delivered message has %d stanza-ids, want 1: %s", len(sids), got)
	}
	if by := sids[0].AttrValue("by"); by != "juliet@localhost" {
		t.Errorf("stanza-id by = %q, want juliet@localhost", by)
	}
	stored := storedIDs(t, s, "juliet")
	if len(stored) != 1 || sids[0].AttrValue("id") != stored[0] {
		t.Errorf("stanza-id %q, archive ids %q", sids[0].AttrValue("id"), stored)
	}
	r := queryArchive(t, juliet, "", "")
	if len(r.results) != 1 || r.results[0].id != sids[0].AttrValue("id") {
		t.Errorf("archive query ids %q, want the stanza-id %q", r.ids(), sids[0].AttrValue("id"))
	}
	// The sender's copy is archived too, without a stanza-id going out.
	if sent := queryArchive(t, romeo, "", ""); len(sent.results) != 1 || sent.results[0].body != "stanza id please" {
		t.Errorf("romeo's archive = %q, want the sent message", sent.bodies())
	}
}

func TestForgedStanzaIDStripped(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")

	tests := []struct {
		name, payload string
		archived      bool
	}{
		{"with body", "<body>forged one</body>", true},
		{"without body", "<composing xmlns='http://jabber.org/protocol/chatstates'/><thread>forged two</thread>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			romeo.Sendf("<message to='juliet@localhost' type='chat'>%s"+
				"<stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='juliet@localhost'/>"+
				"<stanza-id xmlns='urn:xmpp:sid:0' id='foreign' by='montague.example'/></message>", tt.payload)
			got := juliet.Expect(func(el *stanza.Stanza) bool {
				return el.Name == stanza.Message && bytes.Contains(el.Inner, []byte("foreign"))
			})
			p, _ := got.Payload()
			var ids []string
			for _, sid := range p.ChildrenNamed(mam.NSStanzaID, "stanza-id") {
				ids = append(ids, sid.AttrValue("by")+"="+sid.AttrValue("id"))
			}
			if slices.Contains(ids, "juliet@localhost=forged") {
				t.Errorf("forged stanza-id delivered: %s", got)
			}
			if !slices.Contains(ids, "montague.example=foreign") {
				t.Errorf("another entity's stanza-id was removed: %s", got)
			}
			wantIDs := 1
			if tt.archived {
				wantIDs = 2
			}
			if len(ids) != wantIDs {
				t.Errorf("stanza-ids = %q, want %d", ids, wantIDs)
			}
			if !bytes.HasPrefix(got.Inner, []byte(tt.payload)) {
				t.Errorf("content before the stanza-ids changed: %s", got.Inner)
			}
		})
	}
}

func TestEncryptedMessageArchivedByteForByte(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")

	payloads := []string{
		`<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='27183'><key rid='31415' prekey="true">MwohBbr+Z0Cq/6kj3lvqGw==</key><iv>BaSE64/IV==</iv></header>` +
			`<payload>a2V5&amp;c3RyZWFt</payload></encrypted><store xmlns='urn:xmpp:hints'/>`,
		`<encrypted   xmlns="urn:xmpp:omemo:2" ><header sid="1"><keys jid="romeo@localhost"><key rid="2" kex="true">AAEC</key></keys></header>` +
			"<payload>\n  cGF5bG9hZA==\n</payload></encrypted>",
	}
	for i, payload := range payloads {
		juliet.Sendf("<message to='romeo@localhost' type='chat' id='omemo%d'>%s</message>", i, payload)
		got := romeo.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.ID == fmt.Sprintf("omemo%d", i) })
		if !bytes.HasPrefix(got.Inner, []byte(payload)) {
			t.Errorf("payload %d delivered changed:\n got %s\nwant %s", i, got.Inner, payload)
		}
	}
	r := queryArchive(t, romeo, "", "")
	if len(r.results) != len(payloads) {
		t.Fatalf("romeo's archive has %d messages, want %d", len(r.results), len(payloads))
	}
	for i, payload := range payloads {
		if !bytes.Contains(r.results[i].raw, []byte(payload)) {
			t.Errorf("archived payload %d changed:\n got %s\nwant %s", i, r.results[i].raw, payload)
		}
	}
	if sent := queryArchive(t, juliet, "", ""); len(sent.results) != len(payloads) || !bytes.Contains(sent.results[0].raw, []byte(payloads[0])) {
		t.Errorf("juliet's archive does not hold the sent payloads byte for byte")
	}
}

func TestArchiveSkipsUnarchivableMessages(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	messages := []string{
		"<message to='romeo@localhost' type='chat'><body>private</body><no-store xmlns='urn:xmpp:hints'/></message>",
		"<message to='romeo@localhost' type='chat'><body>ephemeral</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>",
		"<message to='romeo@localhost' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
		"<message to='romeo@localhost' type='headline'><body>news</body></message>",
		"<message to='romeo@localhost' type='chat'><received xmlns='urn:xmpp:receipts' id='x'/></message>",
		"<message to='romeo@localhost' type='normal'><body>kept</body></message>",
		"<message to='romeo@localhost'><body>kept too</body></message>",
		"<message to='romeo@localhost' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='x'/><store xmlns='urn:xmpp:hints'/></message>",
	}
	for _, m := range messages {
		juliet.Send(m)
	}
	juliet.Barrier()
	romeo.Sync()
	for _, c := range []*xmpptest.Client{romeo, juliet} {
		r := queryArchive(t, c, "", "")
		if got := r.bodies(); !slices.Equal(got, []string{"kept", "kept too", ""}) {
			t.Errorf("%s archive = %q, want the normal messages and the stored marker", c.JID, got)
		}
	}

	// A message to the server itself is in no account's archive on the
	// receiving side.
	juliet.Send("<message to='localhost' type='chat'><body>to the server</body></message>")
	juliet.Barrier()
	a := s.Store().(storage.Archive)
	p, err := a.QueryArchive(context.Background(), storage.Owner{Domain: "localhost"}, storage.ArchiveQuery{})
	if err != nil || len(p.Messages) != 0 {
		t.Errorf("archive of the server domain = %d messages, %v; want none", len(p.Messages), err)
	}
}

func TestArchivePrefs(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	nurse := s.Login("nurse", "n-secret", "chamber")

	resp := romeo.Request("<iq type='get' id='p1'><prefs xmlns='urn:xmpp:mam:2'/></iq>", "p1")
	if got := resp.Child(mam.NS, "prefs").AttrValue("default"); got != "always" {
		t.Fatalf("default preference = %q, want always (%s)", got, resp)
	}

	set := func(id, prefs string) {
		t.Helper()
		resp := romeo.Request("<iq type='set' id='"+id+"'>"+prefs+"</iq>", id)
		if resp.Type != "result" {
			t.Fatalf("set prefs %s: %s", prefs, resp)
		}
	}
	set("p2", "<prefs xmlns='urn:xmpp:mam:2' default='never'/>")
	chat(juliet, "romeo@localhost", "never", 1)
	chat(romeo, "juliet@localhost", "never-out", 1)

	set("p3", "<prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never><jid>nurse@localhost</jid></never></prefs>")
	chat(juliet, "romeo@localhost", "always", 1)
	chat(nurse, "romeo@localhost", "nurse", 1)

	resp = romeo.Request("<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='juliet@localhost'/></query></iq>", "r1")
	if resp.Type != "result" {
		t.Fatalf("roster set: %s", resp)
	}
	set("p4", "<prefs xmlns='urn:xmpp:mam:2' default='roster'/>")
	chat(juliet, "romeo@localhost", "contact", 1)
	chat(nurse, "romeo@localhost", "stranger", 1)
	set("p5", "<prefs xmlns='urn:xmpp:mam:2' default='never'><always><jid>nurse@localhost</jid></always></prefs>")
	chat(nurse, "romeo@localhost", "listed", 1)

	r := queryArchive(t, romeo, "", "")
	if got := r.bodies(); !slices.Equal(got, []string{"always0000", "contact0000", "listed0000"}) {
		t.Errorf("archived under changing preferences: %q", got)
	}
	resp = romeo.Request("<iq type='get' id='p6'><prefs xmlns='urn:xmpp:mam:2'/></iq>", "p6")
	prefs := resp.Child(mam.NS, "prefs")
	if prefs.AttrValue("default") != "never" || prefs.Child(mam.NS, "always").Child(mam.NS, "jid").Text() != "nurse@localhost" {
		t.Errorf("stored preferences = %s", prefs)
	}
	if got := queryArchive(t, juliet, "", ""); len(got.results) != 4 {
		t.Errorf("juliet's archive holds %d messages, want 4: romeo's preferences must not change hers", len(got.results))
	}
	bad := romeo.Request("<iq type='set' id='p7'><prefs xmlns='urn:xmpp:mam:2' default='sometimes'/></iq>", "p7")
	if got := xmpptest.ErrorCondition(bad); got != "bad-request" {
		t.Errorf("invalid default: condition %q, want bad-request", got)
	}
}

func TestArchiveMetadataFormAndDisco(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.Archive.MaxPage = 3 })
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")

	md := romeo.Request("<iq type='get' id='md1'><metadata xmlns='urn:xmpp:mam:2'/></iq>", "md1").Child(mam.NS, "metadata")
	if md == nil || len(md.Elements()) != 0 {
		t.Errorf("metadata of an empty archive = %s, want an empty element", md)
	}
	chat(juliet, "romeo@localhost", "m", 5)
	ids := storedIDs(t, s, "romeo")
	md = romeo.Request("<iq type='get' id='md2'><metadata xmlns='urn:xmpp:mam:2'/></iq>", "md2").Child(mam.NS, "metadata")
	if got := md.Child(mam.NS, "start").AttrValue("id"); got != ids[0] {
		t.Errorf("metadata start id = %q, want %q", got, ids[0])
	}
	if got := md.Child(mam.NS, "end").AttrValue("id"); got != ids[4] {
		t.Errorf("metadata end id = %q, want %q", got, ids[4])
	}
	if _, err := time.Parse(time.RFC3339, md.Child(mam.NS, "end").AttrValue("timestamp")); err != nil {
		t.Errorf("metadata end timestamp: %v", err)
	}

	r := queryArchive(t, romeo, "", rsmSet(100, ""))
	if len(r.results) != 3 || r.complete() {
		t.Errorf("page above archive.max_page: %d results, complete %v, want 3 and incomplete", len(r.results), r.complete())
	}

	resp := romeo.Request("<iq type='get' id='f1'><query xmlns='urn:xmpp:mam:2'/></iq>", "f1")
	var fields []string
	for _, f := range resp.Child(mam.NS, "query").Child(mam.NSData, "x").ChildrenNamed(mam.NSData, "field") {
		fields = append(fields, f.AttrValue("var"))
	}
	if want := []string{"FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"}; !slices.Equal(fields, want) {
		t.Errorf("form fields = %q, want %q", fields, want)
	}

	account := romeo.Request("<iq type='get' id='d1' to='romeo@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "d1")
	server := romeo.Request("<iq type='get' id='d2' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "d2")
	for _, c := range []struct {
		resp    *stanza.Stanza
		feature string
	}{{account, mam.NS}, {account, mam.NSExtended}, {server, mam.NSStanzaID}} {
		if !bytes.Contains(c.resp.Inner, []byte("var='"+c.feature+"'")) {
			t.Errorf("disco#info %s lacks %s", c.resp.From, c.feature)
		}
	}
}

func TestMessageToSelfArchivedOnce(t *testing.T) {
	s := newPair(t)
	a := s.Login("romeo", "r-secret", "orchard")
	b := s.Login("romeo", "r-secret", "garden")
	a.Send("<message to='romeo@localhost' type='chat'><body>note to self</body></message>")
	b.Expect(xmpptest.IsMessage("note to self"))
	r := queryArchive(t, a, "", form("with", "romeo@localhost"))
	if got := r.bodies(); !slices.Equal(got, []string{"note to self"}) {
		t.Errorf("archive with self = %q, want the message once", got)
	}
}

func TestArchiveDisabled(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.Archive.Enabled = false })
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	juliet.Send("<message to='romeo@localhost' type='chat'><body>unarchived</body></message>")
	got := romeo.Expect(xmpptest.IsMessage("unarchived"))
	if got.Child(mam.NSStanzaID, "stanza-id") != nil {
		t.Errorf("message has a stanza-id with archiving off: %s", got)
	}
	resp := romeo.Request("<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2'/></iq>", "q1")
	if got := xmpptest.ErrorCondition(resp); got != "service-unavailable" {
		t.Errorf("query with archiving off: condition %q, want service-unavailable", got)
	}
}
