package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	msasl "mellium.im/sasl"

	"tern/config"
	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/storage/postgres/pgtest"
)

const (
	nsMUC           = "http://jabber.org/protocol/muc"
	nsMUCUser       = nsMUC + "#user"
	nsMUCAdmin      = nsMUC + "#admin"
	nsMUCOwner      = nsMUC + "#owner"
	nsMUCMAM        = "urn:xmpp:mam:2"
	nsMUCStanzaID   = "urn:xmpp:sid:0"
	nsMUCRetract    = "urn:xmpp:message-retract:1"
	nsMUCModerate   = "urn:xmpp:message-moderate:1"
	nsMUCOccupantID = "urn:xmpp:occupant-id:0"
	mucService      = "conference.localhost"
)

// mucUsers are the accounts of the MUC tests. Each one's password is its
// name followed by "-secret".
var mucUsers = []string{"romeo", "juliet", "nurse", "tybalt", "mercutio", "benvolio"}

// startMUC starts a server with the MUC accounts and no message rate
// limit, then applies opts.
func startMUC(t *testing.T, opts ...func(*config.Config)) *xmpptest.Server {
	t.Helper()
	opts = append([]func(*config.Config){func(c *config.Config) { c.MUC.MaxMessagesPerSecond = 0 }}, opts...)
	s := xmpptest.Start(t, opts...)
	for _, u := range mucUsers {
		s.AddUser(u, u+"-secret")
	}
	return s
}

func mucLogin(s *xmpptest.Server, user string) *xmpptest.Client {
	return s.Login(user, user+"-secret", "res")
}

var mucIDCounter atomic.Int64

// mucID returns a new stanza id.
func mucID() string { return fmt.Sprintf("muc%d", mucIDCounter.Add(1)) }

func mucRoom(room string) string { return room + "@" + mucService }

func mucOccupant(room, nick string) string { return mucRoom(room) + "/" + nick }

// mucHasStatus reports whether a stanza has a muc#user status code.
func mucHasStatus(s *stanza.Stanza, code string) bool {
	for _, st := range s.Child(nsMUCUser, "x").ChildrenNamed(nsMUCUser, "status") {
		if st.AttrValue("code") == code {
			return true
		}
	}
	return false
}

// mucItem returns the muc#user <item/> of a presence.
func mucItem(s *stanza.Stanza) *stanza.Element {
	return s.Child(nsMUCUser, "x").Child(nsMUCUser, "item")
}

// mucIsSelf matches the self-presence of an occupant: from its occupant JID
// with status code 110, of type typ ("" for available).
func mucIsSelf(room, nick, typ string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.Presence && s.From.String() == mucOccupant(room, nick) &&
			s.Type == typ && mucHasStatus(s, "110")
	}
}

// mucIsFrom matches a presence of type typ from an occupant JID.
func mucIsFrom(room, nick, typ string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.Presence && s.From.String() == mucOccupant(room, nick) && s.Type == typ
	}
}

// mucIsSubject matches the subject message that ends the join sequence.
func mucIsSubject(room string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.Message && s.Type == "groupchat" && s.From.Bare().String() == mucRoom(room) &&
			s.Child("", "subject") != nil && s.Child("", "body") == nil
	}
}

// mucIsGroupchat matches a groupchat message from the room with this body.
func mucIsGroupchat(room, body string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.Message && s.Type == "groupchat" && s.From.Bare().String() == mucRoom(room) &&
			s.Child("", "body").Text() == body
	}
}

// mucJoin sends a join presence and returns the self-presence, or the
// presence error from the room.
func mucJoin(c *xmpptest.Client, room, nick, x string) *stanza.Stanza {
	c.Sendf("<presence to='%s'><x xmlns='%s'>%s</x></presence>", mucOccupant(room, nick), nsMUC, x)
	return c.Expect(func(s *stanza.Stanza) bool {
		return s.Name == stanza.Presence && s.From.String() == mucOccupant(room, nick) &&
			(s.Type == "error" || (s.Type == "" && mucHasStatus(s, "110")))
	})
}

// mucMustJoin joins, fails the test on an error, and waits for the subject.
func mucMustJoin(t *testing.T, c *xmpptest.Client, room, nick, x string) *stanza.Stanza {
	t.Helper()
	p := mucJoin(c, room, nick, x)
	if p.Type == "error" {
		t.Fatalf("%s joining %s as %s: %s", c.JID, room, nick, p)
	}
	c.Expect(mucIsSubject(room))
	return p
}

// mucJoinHistory joins and returns the history messages sent before the
// subject, in order.
func mucJoinHistory(t *testing.T, c *xmpptest.Client, room, nick, x string) []*stanza.Stanza {
	t.Helper()
	c.Sync()
	c.Sendf("<presence to='%s'><x xmlns='%s'>%s</x></presence>", mucOccupant(room, nick), nsMUC, x)
	var history []*stanza.Stanza
	for {
		s, err := c.Next()
		if err != nil {
			t.Fatalf("%s waiting for the subject of %s: %v", c.JID, room, err)
		}
		if s.Name == stanza.Presence && s.Type == "error" {
			t.Fatalf("%s joining %s: %s", c.JID, room, s)
		}
		if mucIsSubject(room)(s) {
			return history
		}
		if s.Name == stanza.Message && s.Child("", "body") != nil {
			history = append(history, s)
		}
	}
}

// mucCreateRoom creates a room as its owner and submits a configuration
// with the given fields (an instant room when there are none).
func mucCreateRoom(t *testing.T, c *xmpptest.Client, room, nick string, fields map[string]string) {
	t.Helper()
	p := mucMustJoin(t, c, room, nick, "")
	if !mucHasStatus(p, "201") {
		t.Fatalf("creating %s: self-presence without 201: %s", room, p)
	}
	if it := mucItem(p); it.AttrValue("affiliation") != "owner" || it.AttrValue("role") != "moderator" {
		t.Fatalf("creator's item = %s, want owner and moderator", it)
	}
	if resp := mucSubmitConfig(c, room, fields); resp.Type != "result" {
		t.Fatalf("configuring %s: %s", room, resp)
	}
}

// mucSubmitConfig submits a room configuration form and returns the response.
func mucSubmitConfig(c *xmpptest.Client, room string, fields map[string]string) *stanza.Stanza {
	var b strings.Builder
	if len(fields) > 0 {
		b.WriteString("<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>")
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		fmt.Fprintf(&b, "<field var='muc#roomconfig_%s'><value>%s</value></field>", k, xmpptest.Escape(fields[k]))
	}
	id := mucID()
	return c.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><query xmlns='%s'><x xmlns='jabber:x:data' type='submit'>%s</x></query></iq>",
		mucRoom(room), id, nsMUCOwner, b.String()), id)
}

// mucAdminSet sends a muc#admin set with the given items.
func mucAdminSet(c *xmpptest.Client, room, items string) *stanza.Stanza {
	id := mucID()
	return c.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><query xmlns='%s'>%s</query></iq>",
		mucRoom(room), id, nsMUCAdmin, items), id)
}

// mucAffiliations returns the JIDs of one affiliation list.
func mucAffiliations(t *testing.T, c *xmpptest.Client, room, aff string) []string {
	t.Helper()
	id := mucID()
	resp := c.Request(fmt.Sprintf("<iq type='get' to='%s' id='%s'><query xmlns='%s'><item affiliation='%s'/></query></iq>",
		mucRoom(room), id, nsMUCAdmin, aff), id)
	if resp.Type != "result" {
		t.Fatalf("%s list of %s: %s", aff, room, resp)
	}
	var jids []string
	for _, it := range resp.Child(nsMUCAdmin, "query").ChildrenNamed(nsMUCAdmin, "item") {
		jids = append(jids, it.AttrValue("jid"))
	}
	return jids
}

func mucSay(c *xmpptest.Client, room, body string) {
	c.Sendf("<message to='%s' type='groupchat' id='%s'><body>%s</body></message>", mucRoom(room), mucID(), body)
}

// mucMAMQuery queries a room archive and returns the result messages and
// the iq response.
func mucMAMQuery(t *testing.T, c *xmpptest.Client, room, inner string) ([]*stanza.Stanza, *stanza.Stanza) {
	t.Helper()
	c.Sync()
	id := mucID()
	resp := c.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><query xmlns='%s' queryid='%s'>%s</query></iq>",
		mucRoom(room), id, nsMUCMAM, id, inner), id)
	var results []*stanza.Stanza
	for _, s := range c.Sync() {
		if r := s.Child(nsMUCMAM, "result"); r != nil && r.AttrValue("queryid") == id {
			results = append(results, s)
		}
	}
	return results, resp
}

// mucArchived returns the forwarded message of a MAM result.
func mucArchived(result *stanza.Stanza) *stanza.Element {
	return result.Child(nsMUCMAM, "result").Child("urn:xmpp:forward:0", "forwarded").Child("", "message")
}

func mucBodies(msgs []*stanza.Stanza) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Child("", "body").Text())
	}
	return out
}

// TestMUCPersistentRoomSurvivesRestart creates a persistent members-only
// room, fills it with three members and a history, and checks the room,
// its member list and its archive after a restart, on both backends.
func TestMUCPersistentRoomSurvivesRestart(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testMUCPersistence(t, startMUC(t)) })
	t.Run("PostgreSQL", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		testMUCPersistence(t, startMUC(t, func(c *config.Config) { c.Storage.Backend, c.Storage.PostgresDSN = "postgres", dsn }))
	})
}

func testMUCPersistence(t *testing.T, s *xmpptest.Server) {
	romeo, juliet, nurse, mercutio := mucLogin(s, "romeo"), mucLogin(s, "juliet"), mucLogin(s, "nurse"), mucLogin(s, "mercutio")
	mucCreateRoom(t, romeo, "capulet", "Romeo", map[string]string{
		"persistentroom": "1", "membersonly": "1", "roomname": "Capulet Hall",
	})
	resp := mucAdminSet(romeo, "capulet",
		"<item affiliation='member' jid='juliet@localhost'/><item affiliation='member' jid='nurse@localhost' nick='Nurse'/>")
	if resp.Type != "result" {
		t.Fatalf("add members: %s", resp)
	}
	if p := mucJoin(mercutio, "capulet", "Mercutio", ""); xmpptest.ErrorCondition(p) != "registration-required" {
		t.Errorf("non-member joining: %s, want registration-required", p)
	}
	mucMustJoin(t, juliet, "capulet", "Juliet", "")
	mucMustJoin(t, nurse, "capulet", "Nurse", "")
	romeo.Expect(mucIsFrom("capulet", "Nurse", ""))

	var ids []string
	for i := 1; i <= 5; i++ {
		mucSay(romeo, "capulet", fmt.Sprintf("line %d", i))
		m := juliet.Expect(mucIsGroupchat("capulet", fmt.Sprintf("line %d", i)))
		sid := m.Child(nsMUCStanzaID, "stanza-id")
		if sid == nil || sid.AttrValue("by") != mucRoom("capulet") || sid.AttrValue("id") == "" {
			t.Fatalf("message without the room's stanza-id: %s", m)
		}
		if m.Child(nsMUCOccupantID, "occupant-id") == nil {
			t.Errorf("message without occupant-id: %s", m)
		}
		ids = append(ids, sid.AttrValue("id"))
		nurse.Expect(mucIsGroupchat("capulet", fmt.Sprintf("line %d", i)))
	}

	juliet.Sendf("<presence to='%s' type='unavailable'/>", mucOccupant("capulet", "Juliet"))
	juliet.Expect(mucIsSelf("capulet", "Juliet", "unavailable"))
	history := mucJoinHistory(t, juliet, "capulet", "Juliet", "<history maxstanzas='2'/>")
	if got := mucBodies(history); !slices.Equal(got, []string{"line 4", "line 5"}) {
		t.Errorf("history with maxstanzas=2 = %v, want line 4 and line 5", got)
	}
	for _, m := range history {
		if d := m.Child("urn:xmpp:delay", "delay"); d == nil || d.AttrValue("from") != mucRoom("capulet") {
			t.Errorf("history message without a delay from the room: %s", m)
		}
	}

	s = s.Restart()
	juliet, nurse, romeo = mucLogin(s, "juliet"), mucLogin(s, "nurse"), mucLogin(s, "romeo")
	history = mucJoinHistory(t, juliet, "capulet", "Juliet", "<history maxstanzas='3'/>")
	if got := mucBodies(history); !slices.Equal(got, []string{"line 3", "line 4", "line 5"}) {
		t.Errorf("history after restart = %v, want lines 3 to 5", got)
	}
	mucMustJoin(t, nurse, "capulet", "Nurse", "")
	if p := mucJoin(mucLogin(s, "mercutio"), "capulet", "Mercutio", ""); xmpptest.ErrorCondition(p) != "registration-required" {
		t.Errorf("non-member joining after restart: %s, want registration-required", p)
	}
	if got := mucAffiliations(t, romeo, "capulet", "member"); !slices.Equal(got, []string{"juliet@localhost", "nurse@localhost"}) {
		t.Errorf("member list after restart = %v", got)
	}
	if got := mucAffiliations(t, romeo, "capulet", "owner"); !slices.Equal(got, []string{"romeo@localhost"}) {
		t.Errorf("owner list after restart = %v", got)
	}
	results, fin := mucMAMQuery(t, nurse, "capulet", "")
	if fin.Type != "result" || len(results) != 5 {
		t.Fatalf("archive after restart: %d results, %s", len(results), fin)
	}
	for i, r := range results {
		if got := r.Child(nsMUCMAM, "result").AttrValue("id"); got != ids[i] {
			t.Errorf("archive result %d has id %q, want the stanza-id %q", i, got, ids[i])
		}
		if mucArchived(r).Child(nsMUCUser, "x") != nil {
			t.Errorf("archive shows a real JID to a participant of a semi-anonymous room: %s", r)
		}
	}
	info := mucDiscoInfo(t, juliet, mucRoom("capulet"))
	for _, f := range []string{"muc_persistent", "muc_membersonly", "muc_semianonymous", nsMUCMAM, nsMUCOccupantID} {
		if !slices.Contains(info, f) {
			t.Errorf("room disco#info lacks %s: %v", f, info)
		}
	}
}

// mucDiscoInfo returns the features of an entity.
func mucDiscoInfo(t *testing.T, c *xmpptest.Client, to string) []string {
	t.Helper()
	id := mucID()
	resp := c.Request(fmt.Sprintf("<iq type='get' to='%s' id='%s'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", to, id), id)
	if resp.Type != "result" {
		t.Fatalf("disco#info of %s: %s", to, resp)
	}
	var out []string
	for _, f := range resp.Child("http://jabber.org/protocol/disco#info", "query").ChildrenNamed("", "feature") {
		out = append(out, f.AttrValue("var"))
	}
	return out
}

// TestMUCModeration covers kicks, bans, voice in a moderated room and a
// moderator's retraction of a message (XEP-0425).
func TestMUCModeration(t *testing.T) {
	s := startMUC(t)
	romeo, tybalt, mercutio, benvolio := mucLogin(s, "romeo"), mucLogin(s, "tybalt"), mucLogin(s, "mercutio"), mucLogin(s, "benvolio")
	mucCreateRoom(t, romeo, "square", "Prince", map[string]string{"persistentroom": "1"})
	mucMustJoin(t, tybalt, "square", "Tybalt", "")
	mucMustJoin(t, mercutio, "square", "Mercutio", "")
	mucMustJoin(t, benvolio, "square", "Benvolio", "")

	resp := mucAdminSet(romeo, "square", "<item nick='Tybalt' role='none'><reason>brawling</reason></item>")
	if resp.Type != "result" {
		t.Fatalf("kick: %s", resp)
	}
	kicked := tybalt.Expect(mucIsSelf("square", "Tybalt", "unavailable"))
	if !mucHasStatus(kicked, "307") || mucItem(kicked).Child(nsMUCUser, "reason").Text() != "brawling" {
		t.Errorf("kicked occupant's presence: %s", kicked)
	}
	if seen := benvolio.Expect(mucIsFrom("square", "Tybalt", "unavailable")); !mucHasStatus(seen, "307") {
		t.Errorf("others see the kick without 307: %s", seen)
	}

	resp = mucAdminSet(romeo, "square", "<item affiliation='outcast' jid='mercutio@localhost'/>")
	if resp.Type != "result" {
		t.Fatalf("ban: %s", resp)
	}
	banned := mercutio.Expect(mucIsSelf("square", "Mercutio", "unavailable"))
	if !mucHasStatus(banned, "301") || mucItem(banned).AttrValue("affiliation") != "outcast" {
		t.Errorf("banned occupant's presence: %s", banned)
	}
	if seen := benvolio.Expect(mucIsFrom("square", "Mercutio", "unavailable")); !mucHasStatus(seen, "301") {
		t.Errorf("others see the ban without 301: %s", seen)
	}
	if p := mucJoin(mercutio, "square", "Mercutio", ""); xmpptest.ErrorCondition(p) != "forbidden" {
		t.Errorf("outcast rejoining: %s, want forbidden", p)
	}
	if p := mucJoin(tybalt, "square", "Tybalt", ""); p.Type == "error" {
		t.Errorf("kicked occupant rejoining: %s", p)
	}

	if resp := mucSubmitConfig(romeo, "square", map[string]string{"moderatedroom": "1"}); resp.Type != "result" {
		t.Fatalf("make the room moderated: %s", resp)
	}
	tybalt.Sendf("<presence to='%s' type='unavailable'/>", mucOccupant("square", "Tybalt"))
	tybalt.Expect(mucIsSelf("square", "Tybalt", "unavailable"))
	if p := mucMustJoin(t, tybalt, "square", "Tybalt", ""); mucItem(p).AttrValue("role") != "visitor" {
		t.Fatalf("unaffiliated user entering a moderated room: %s, want role visitor", p)
	}
	tybalt.Sendf("<message to='%s' type='groupchat' id='v1'><body>let me speak</body></message>", mucRoom("square"))
	if e := tybalt.Expect(func(s *stanza.Stanza) bool { return s.ID == "v1" && s.Type == "error" }); xmpptest.ErrorCondition(e) != "forbidden" {
		t.Errorf("visitor speaking: %s, want forbidden", e)
	}
	if resp := mucAdminSet(romeo, "square", "<item nick='Tybalt' role='participant'/>"); resp.Type != "result" {
		t.Fatalf("grant voice: %s", resp)
	}
	if p := tybalt.Expect(mucIsSelf("square", "Tybalt", "")); mucItem(p).AttrValue("role") != "participant" {
		t.Errorf("presence after voice: %s", p)
	}
	mucSay(tybalt, "square", "thou villain")
	m := benvolio.Expect(mucIsGroupchat("square", "thou villain"))
	sid := m.Child(nsMUCStanzaID, "stanza-id").AttrValue("id")

	id := mucID()
	resp = benvolio.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><moderate id='%s' xmlns='%s'><retract xmlns='%s'/></moderate></iq>",
		mucRoom("square"), id, sid, nsMUCModerate, nsMUCRetract), id)
	if xmpptest.ErrorCondition(resp) != "forbidden" {
		t.Errorf("participant moderating: %s, want forbidden", resp)
	}
	id = mucID()
	resp = romeo.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><moderate id='%s' xmlns='%s'><retract xmlns='%s'/><reason>insult</reason></moderate></iq>",
		mucRoom("square"), id, sid, nsMUCModerate, nsMUCRetract), id)
	if resp.Type != "result" {
		t.Fatalf("moderate: %s", resp)
	}
	notice := benvolio.Expect(func(s *stanza.Stanza) bool {
		return s.Name == stanza.Message && s.Child(nsMUCRetract, "retract") != nil
	})
	rt := notice.Child(nsMUCRetract, "retract")
	if notice.From.String() != mucRoom("square") || rt.AttrValue("id") != sid ||
		rt.Child(nsMUCModerate, "moderated").AttrValue("by") != mucOccupant("square", "Prince") {
		t.Errorf("retraction notice: %s", notice)
	}
	results, _ := mucMAMQuery(t, romeo, "square", "<x xmlns='jabber:x:data' type='submit'><field var='ids'><value>"+sid+"</value></field></x>")
	if len(results) != 1 {
		t.Fatalf("archive query for the moderated message: %d results", len(results))
	}
	arch := mucArchived(results[0])
	if arch.Child("", "body") != nil || arch.Child(nsMUCRetract, "retracted").Child(nsMUCModerate, "moderated") == nil {
		t.Errorf("archived message is not a tombstone: %s", arch)
	}
	if arch.Child(nsMUCOccupantID, "occupant-id").AttrValue("id") != m.Child(nsMUCOccupantID, "occupant-id").AttrValue("id") {
		t.Errorf("tombstone lost the author's occupant id: %s", arch)
	}
	s.AddUser("balthasar", "balthasar-secret")
	history := mucJoinHistory(t, s.Login("balthasar", "balthasar-secret", "res"), "square", "Late", "")
	if slices.Contains(mucBodies(history), "thou villain") {
		t.Errorf("moderated message replayed in the history: %v", mucBodies(history))
	}
}

// TestMUCModerationVersion0: a moderation request in version 0 of
// XEP-0425 (inside XEP-0422's <apply-to/>) retracts the message, and the
// notice carries both the version 1 <retract/> and the version 0
// <apply-to/>.
func TestMUCModerationVersion0(t *testing.T) {
	const (
		nsFasten    = "urn:xmpp:fasten:0"
		nsModerate0 = "urn:xmpp:message-moderate:0"
		nsRetract0  = "urn:xmpp:message-retract:0"
	)
	s := startMUC(t)
	romeo, benvolio := mucLogin(s, "romeo"), mucLogin(s, "benvolio")
	mucCreateRoom(t, romeo, "market", "Prince", nil)
	mucMustJoin(t, benvolio, "market", "Benvolio", "")
	mucSay(benvolio, "market", "a plague on both your houses")
	m := romeo.Expect(mucIsGroupchat("market", "a plague on both your houses"))
	sid := m.Child(nsMUCStanzaID, "stanza-id").AttrValue("id")

	id := mucID()
	resp := benvolio.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><apply-to xmlns='%s' id='%s'><moderate xmlns='%s'><retract xmlns='%s'/></moderate></apply-to></iq>",
		mucRoom("market"), id, nsFasten, sid, nsModerate0, nsRetract0), id)
	if xmpptest.ErrorCondition(resp) != "forbidden" {
		t.Errorf("participant moderating with version 0: %s, want forbidden", resp)
	}
	id = mucID()
	resp = romeo.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><apply-to xmlns='%s' id='%s'><moderate xmlns='%s'><retract xmlns='%s'/><reason>spam</reason></moderate></apply-to></iq>",
		mucRoom("market"), id, nsFasten, sid, nsModerate0, nsRetract0), id)
	if resp.Type != "result" {
		t.Fatalf("moderate with version 0: %s", resp)
	}
	notice := benvolio.Expect(func(s *stanza.Stanza) bool {
		return s.Name == stanza.Message && s.Child(nsFasten, "apply-to") != nil
	})
	applyTo := notice.Child(nsFasten, "apply-to")
	moderated := applyTo.Child(nsModerate0, "moderated")
	if applyTo.AttrValue("id") != sid || moderated == nil || moderated.AttrValue("by") != mucOccupant("market", "Prince") ||
		moderated.Child(nsRetract0, "retract") == nil || moderated.Child(nsModerate0, "reason").Text() != "spam" {
		t.Errorf("version 0 part of the notice: %s", notice)
	}
	if rt := notice.Child(nsMUCRetract, "retract"); rt == nil || rt.AttrValue("id") != sid {
		t.Errorf("version 1 part of the notice: %s", notice)
	}

	id = mucID()
	resp = romeo.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><apply-to xmlns='%s' id='%s'><fasten-other xmlns='urn:example'/></apply-to></iq>",
		mucRoom("market"), id, nsFasten, sid), id)
	if xmpptest.ErrorCondition(resp) != "feature-not-implemented" {
		t.Errorf("<apply-to/> without <moderate/>: %s, want feature-not-implemented", resp)
	}
}

func TestMUCNicknames(t *testing.T) {
	s := startMUC(t)
	juliet, romeo := mucLogin(s, "juliet"), mucLogin(s, "romeo")
	mucCreateRoom(t, juliet, "balcony", "Juliet", nil)
	if p := mucJoin(romeo, "balcony", "Juliet", ""); xmpptest.ErrorCondition(p) != "conflict" {
		t.Errorf("taken nick: %s, want conflict", p)
	}
	mucMustJoin(t, romeo, "balcony", "Romeo", "")
	juliet.Expect(mucIsFrom("balcony", "Romeo", ""))

	romeo.Sendf("<presence to='%s'/>", mucOccupant("balcony", "Juliet"))
	if p := romeo.Expect(mucIsFrom("balcony", "Juliet", "error")); xmpptest.ErrorCondition(p) != "conflict" {
		t.Errorf("changing to a taken nick: %s, want conflict", p)
	}
	romeo.Sendf("<presence to='%s'/>", mucOccupant("balcony", "Montague"))
	for _, c := range []*xmpptest.Client{juliet, romeo} {
		oldNick := c.Expect(mucIsFrom("balcony", "Romeo", "unavailable"))
		if !mucHasStatus(oldNick, "303") || mucItem(oldNick).AttrValue("nick") != "Montague" {
			t.Errorf("%s: unavailable presence of the old nick: %s", c.JID, oldNick)
		}
		if self := mucHasStatus(oldNick, "110"); self != (c == romeo) {
			t.Errorf("%s: status 110 on the old nick's presence is %v", c.JID, self)
		}
		back := c.Expect(mucIsFrom("balcony", "Montague", ""))
		if self := mucHasStatus(back, "110"); self != (c == romeo) {
			t.Errorf("%s: status 110 on the new nick's presence is %v", c.JID, self)
		}
	}
	mucSay(romeo, "balcony", "by any other name")
	if m := juliet.Expect(mucIsGroupchat("balcony", "by any other name")); m.From.String() != mucOccupant("balcony", "Montague") {
		t.Errorf("message after the nick change from %s", m.From)
	}
	romeo.Sendf("<presence to='%s/ Spaced '><x xmlns='%s'/></presence>", mucRoom("balcony"), nsMUC)
	if p := romeo.Expect(mucIsFrom("balcony", "Spaced", "")); !mucHasStatus(p, "210") {
		t.Errorf("nick trimmed by the service without 210: %s", p)
	}
}

// TestMUCAffiliationEscalation checks who may change which affiliation
// (XEP-0045 §9 and §10) in a room with owner romeo, admin juliet and
// member nurse, and that a rejected request changes nothing.
func TestMUCAffiliationEscalation(t *testing.T) {
	s := startMUC(t)
	romeo, juliet, nurse := mucLogin(s, "romeo"), mucLogin(s, "juliet"), mucLogin(s, "nurse")
	mucCreateRoom(t, romeo, "coven", "Romeo", map[string]string{"persistentroom": "1"})
	resp := mucAdminSet(romeo, "coven", "<item affiliation='admin' jid='juliet@localhost'/><item affiliation='member' jid='nurse@localhost'/>")
	if resp.Type != "result" {
		t.Fatalf("set up affiliations: %s", resp)
	}
	mucMustJoin(t, juliet, "coven", "Juliet", "")
	mucMustJoin(t, nurse, "coven", "Nurse", "")
	lists := func() map[string][]string {
		out := map[string][]string{}
		for _, aff := range []string{"owner", "admin", "member", "outcast"} {
			out[aff] = mucAffiliations(t, romeo, "coven", aff)
		}
		return out
	}
	before := lists()

	cases := []struct {
		name  string
		actor *xmpptest.Client
		items string
		want  string
	}{
		{"admin bans owner", juliet, "<item affiliation='outcast' jid='romeo@localhost'/>", "not-allowed"},
		{"admin demotes owner", juliet, "<item affiliation='member' jid='romeo@localhost'/>", "not-allowed"},
		{"admin makes herself owner", juliet, "<item affiliation='owner' jid='juliet@localhost'/>", "forbidden"},
		{"admin grants admin", juliet, "<item affiliation='admin' jid='nurse@localhost'/>", "forbidden"},
		{"member makes herself admin", nurse, "<item affiliation='admin' jid='nurse@localhost'/>", "forbidden"},
		{"member grants membership", nurse, "<item affiliation='member' jid='tybalt@localhost'/>", "forbidden"},
		{"member bans by nick", nurse, "<item affiliation='outcast' nick='Juliet'/>", "forbidden"},
		{"owner bans himself", romeo, "<item affiliation='outcast' jid='romeo@localhost'/>", "conflict"},
		{"last owner steps down", romeo, "<item affiliation='admin' jid='romeo@localhost'/>", "conflict"},
		{"one forbidden item of two", juliet, "<item affiliation='member' jid='mercutio@localhost'/><item affiliation='owner' jid='juliet@localhost'/>", "forbidden"},
		{"one bad item of two", romeo, "<item affiliation='member' jid='mercutio@localhost'/><item affiliation='king' jid='benvolio@localhost'/>", "bad-request"},
		{"moderator changes an admin's role", juliet, "<item nick='Romeo' role='participant'/>", "not-allowed"},
	}
	for _, tc := range cases {
		resp := mucAdminSet(tc.actor, "coven", tc.items)
		if got := xmpptest.ErrorCondition(resp); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, resp, tc.want)
		}
	}
	if after := lists(); !maps.EqualFunc(before, after, slices.Equal[[]string]) {
		t.Errorf("affiliation lists changed by rejected requests:\nbefore %v\nafter  %v", before, after)
	}
	nurse.Sync()
	for _, el := range nurse.Sync() {
		if el.Name == stanza.Presence {
			t.Errorf("a rejected request sent presence: %s", el)
		}
	}

	tybalt := mucLogin(s, "tybalt")
	if resp := mucAdminSet(romeo, "coven", "<item affiliation='outcast' jid='tybalt@localhost'><reason>feud</reason></item>"); resp.Type != "result" {
		t.Fatalf("ban an absent user: %s", resp)
	}
	if p := mucJoin(tybalt, "coven", "Tybalt", ""); xmpptest.ErrorCondition(p) != "forbidden" {
		t.Errorf("banned user joining: %s, want forbidden", p)
	}
	if got := mucAffiliations(t, juliet, "coven", "outcast"); !slices.Equal(got, []string{"tybalt@localhost"}) {
		t.Errorf("outcast list = %v", got)
	}
	if resp := mucAdminSet(romeo, "coven", "<item affiliation='none' jid='tybalt@localhost'/>"); resp.Type != "result" {
		t.Fatalf("unban an absent user: %s", resp)
	}
	mucMustJoin(t, tybalt, "coven", "Tybalt", "")
	if resp := mucAdminSet(juliet, "coven", "<item affiliation='member' jid='mercutio@localhost'/><item affiliation='outcast' jid='benvolio@localhost'/>"); resp.Type != "result" {
		t.Errorf("admin changing two unaffiliated users: %s", resp)
	}
	if resp := mucAdminSet(romeo, "coven", "<item affiliation='owner' jid='juliet@localhost'/>"); resp.Type != "result" {
		t.Fatalf("owner grants owner: %s", resp)
	}
	if p := juliet.Expect(mucIsSelf("coven", "Juliet", "")); mucItem(p).AttrValue("affiliation") != "owner" {
		t.Errorf("new owner's presence: %s", p)
	}
	if resp := mucAdminSet(romeo, "coven", "<item affiliation='member' jid='romeo@localhost'/>"); resp.Type != "result" {
		t.Errorf("an owner steps down while another remains: %s", resp)
	}
}

// TestMUCOccupantRules covers self-ping, private messages, the subject,
// a user's own retraction and occupant ids in a non-anonymous room.
func TestMUCOccupantRules(t *testing.T) {
	s := startMUC(t)
	romeo, juliet, nurse := mucLogin(s, "romeo"), mucLogin(s, "juliet"), mucLogin(s, "nurse")
	mucCreateRoom(t, romeo, "garden", "Romeo", map[string]string{"whois": "anyone", "persistentroom": "1"})
	p := mucMustJoin(t, juliet, "garden", "Juliet", "")
	if !mucHasStatus(p, "100") || mucItem(p).AttrValue("jid") != juliet.JID.String() {
		t.Errorf("self-presence in a non-anonymous room: %s", p)
	}
	if seen := romeo.Expect(mucIsFrom("garden", "Juliet", "")); mucItem(seen).AttrValue("jid") != juliet.JID.String() {
		t.Errorf("others do not see the real JID in a non-anonymous room: %s", seen)
	}
	occID := p.Child(nsMUCOccupantID, "occupant-id").AttrValue("id")

	requests := []struct {
		name   string
		client *xmpptest.Client
		xml    string
		want   string // "" for a result
	}{
		{"self-ping", juliet, "<iq type='get' to='" + mucOccupant("garden", "Juliet") + "' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>", ""},
		{"self-ping outside", nurse, "<iq type='get' to='" + mucOccupant("garden", "Juliet") + "' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>", "not-acceptable"},
		{"config by non-owner", juliet, "<iq type='get' to='" + mucRoom("garden") + "' id='%s'><query xmlns='" + nsMUCOwner + "'/></iq>", "forbidden"},
		{"config form", romeo, "<iq type='get' to='" + mucRoom("garden") + "' id='%s'><query xmlns='" + nsMUCOwner + "'/></iq>", ""},
		{"missing room", romeo, "<iq type='get' to='" + mucRoom("nowhere") + "' id='%s'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "item-not-found"},
	}
	for _, r := range requests {
		id := mucID()
		resp := r.client.Request(fmt.Sprintf(r.xml, id), id)
		if got := xmpptest.ErrorCondition(resp); got != r.want || (r.want == "" && resp.Type != "result") {
			t.Errorf("%s: %s, want %q", r.name, resp, r.want)
		}
	}

	juliet.Sendf("<message to='%s' type='chat' id='pm1'><body>wherefore</body></message>", mucOccupant("garden", "Romeo"))
	pm := romeo.Expect(xmpptest.IsMessage("wherefore"))
	if pm.From.String() != mucOccupant("garden", "Juliet") || pm.Type != "chat" || pm.Child(nsMUCUser, "x") == nil {
		t.Errorf("private message: %s", pm)
	}
	messages := []struct {
		name   string
		client *xmpptest.Client
		to     string
		typ    string
		want   string
	}{
		{"pm to a missing nick", juliet, mucOccupant("garden", "Tybalt"), "chat", "item-not-found"},
		{"pm from outside", nurse, mucOccupant("garden", "Romeo"), "chat", "not-acceptable"},
		{"groupchat pm", juliet, mucOccupant("garden", "Romeo"), "groupchat", "bad-request"},
		{"groupchat from outside", nurse, mucRoom("garden"), "groupchat", "not-acceptable"},
		{"chat to the room", juliet, mucRoom("garden"), "chat", "bad-request"},
	}
	for _, m := range messages {
		id := mucID()
		m.client.Sendf("<message to='%s' type='%s' id='%s'><body>x</body></message>", m.to, m.typ, id)
		e := m.client.Expect(func(s *stanza.Stanza) bool { return s.ID == id && s.Type == "error" })
		if got := xmpptest.ErrorCondition(e); got != m.want {
			t.Errorf("%s: %s, want %s", m.name, e, m.want)
		}
	}
	if resp := mucSubmitConfig(romeo, "garden", map[string]string{"allowpm": "none"}); resp.Type != "result" {
		t.Fatalf("forbid private messages: %s", resp)
	}
	if n := romeo.Expect(func(s *stanza.Stanza) bool { return s.Name == stanza.Message && mucHasStatus(s, "104") }); n.From.String() != mucRoom("garden") {
		t.Errorf("configuration change notice: %s", n)
	}
	juliet.Sendf("<message to='%s' type='chat' id='pm2'><body>again</body></message>", mucOccupant("garden", "Romeo"))
	if e := juliet.Expect(func(s *stanza.Stanza) bool { return s.ID == "pm2" }); xmpptest.ErrorCondition(e) != "forbidden" {
		t.Errorf("private message with allowpm none: %s, want forbidden", e)
	}

	juliet.Sendf("<message to='%s' type='groupchat' id='subj'><subject>Balcony talk</subject></message>", mucRoom("garden"))
	if e := juliet.Expect(func(s *stanza.Stanza) bool { return s.ID == "subj" }); xmpptest.ErrorCondition(e) != "forbidden" {
		t.Errorf("participant changing the subject: %s, want forbidden", e)
	}
	romeo.Sendf("<message to='%s' type='groupchat'><subject>Balcony talk</subject></message>", mucRoom("garden"))
	if m := juliet.Expect(mucIsSubject("garden")); m.Child("", "subject").Text() != "Balcony talk" {
		t.Errorf("subject change: %s", m)
	}

	mucSay(juliet, "garden", "a rose")
	sid := romeo.Expect(mucIsGroupchat("garden", "a rose")).Child(nsMUCStanzaID, "stanza-id").AttrValue("id")
	retract := "<message to='" + mucRoom("garden") + "' type='groupchat' id='%s'><retract xmlns='" + nsMUCRetract + "' id='" + sid + "'/><body>retracted</body></message>"
	romeo.Sendf(retract, "r1")
	if e := romeo.Expect(func(s *stanza.Stanza) bool { return s.ID == "r1" }); xmpptest.ErrorCondition(e) != "forbidden" {
		t.Errorf("retracting someone else's message: %s, want forbidden", e)
	}
	juliet.Sendf(retract, "r2")
	if m := romeo.Expect(func(s *stanza.Stanza) bool { return s.ID == "r2" }); m.Child(nsMUCRetract, "retract") == nil {
		t.Errorf("own retraction not broadcast: %s", m)
	}
	results, _ := mucMAMQuery(t, romeo, "garden", "<x xmlns='jabber:x:data' type='submit'><field var='ids'><value>"+sid+"</value></field></x>")
	if len(results) != 1 || mucArchived(results[0]).Child(nsMUCRetract, "retracted") == nil {
		t.Errorf("own retraction did not leave a tombstone: %v", results)
	}

	juliet.Sendf("<presence to='%s' type='unavailable'/>", mucOccupant("garden", "Juliet"))
	juliet.Expect(mucIsSelf("garden", "Juliet", "unavailable"))
	if p := mucMustJoin(t, juliet, "garden", "Capulet", ""); p.Child(nsMUCOccupantID, "occupant-id").AttrValue("id") != occID {
		t.Errorf("occupant id changed between visits: %s", p)
	}
}

// TestMUCInvitations covers mediated invitations and declines
// (XEP-0045 §7.8.2) and direct invitations passing through (XEP-0249).
func TestMUCInvitations(t *testing.T) {
	s := startMUC(t)
	romeo, juliet, nurse := mucLogin(s, "romeo"), mucLogin(s, "juliet"), mucLogin(s, "nurse")
	mucCreateRoom(t, romeo, "vault", "Romeo", map[string]string{"membersonly": "1"})
	romeo.Sendf("<message to='%s'><x xmlns='%s'><invite to='juliet@localhost'><reason>come</reason></invite></x></message>", mucRoom("vault"), nsMUCUser)
	inv := juliet.Expect(func(s *stanza.Stanza) bool { return s.Child(nsMUCUser, "x").Child(nsMUCUser, "invite") != nil })
	if invite := inv.Child(nsMUCUser, "x").Child(nsMUCUser, "invite"); inv.From.String() != mucRoom("vault") ||
		invite.AttrValue("from") != "romeo@localhost" || invite.Child(nsMUCUser, "reason").Text() != "come" {
		t.Errorf("mediated invitation: %s", inv)
	}
	mucMustJoin(t, juliet, "vault", "Juliet", "") // the invitation made her a member

	juliet.Sendf("<message to='%s' id='inv2'><x xmlns='%s'><invite to='nurse@localhost'/></x></message>", mucRoom("vault"), nsMUCUser)
	if e := juliet.Expect(func(s *stanza.Stanza) bool { return s.ID == "inv2" }); xmpptest.ErrorCondition(e) != "forbidden" {
		t.Errorf("member inviting to a members-only room: %s, want forbidden", e)
	}
	romeo.Sendf("<message to='%s'><x xmlns='%s'><invite to='nurse@localhost'/></x></message>", mucRoom("vault"), nsMUCUser)
	nurse.Expect(func(s *stanza.Stanza) bool { return s.Child(nsMUCUser, "x").Child(nsMUCUser, "invite") != nil })
	nurse.Sendf("<message to='%s'><x xmlns='%s'><decline to='romeo@localhost'><reason>busy</reason></decline></x></message>", mucRoom("vault"), nsMUCUser)
	dec := romeo.Expect(func(s *stanza.Stanza) bool { return s.Child(nsMUCUser, "x").Child(nsMUCUser, "decline") != nil })
	if d := dec.Child(nsMUCUser, "x").Child(nsMUCUser, "decline"); d.AttrValue("from") != "nurse@localhost" || d.Child(nsMUCUser, "reason").Text() != "busy" {
		t.Errorf("relayed decline: %s", dec)
	}

	romeo.Sendf("<message to='nurse@localhost' id='direct'><x xmlns='jabber:x:conference' jid='%s' reason='tea'/></message>", mucRoom("vault"))
	if d := nurse.Expect(func(s *stanza.Stanza) bool { return s.ID == "direct" }); d.Child("jabber:x:conference", "x").AttrValue("jid") != mucRoom("vault") {
		t.Errorf("direct invitation: %s", d)
	}
}

// TestMUCRoomLifecycle covers the room list, temporary rooms vanishing
// with their last occupant, and destroying a room.
func TestMUCRoomLifecycle(t *testing.T) {
	s := startMUC(t)
	romeo, juliet := mucLogin(s, "romeo"), mucLogin(s, "juliet")
	mucCreateRoom(t, romeo, "hall", "Romeo", map[string]string{"persistentroom": "1", "roomname": "The Hall"})
	mucCreateRoom(t, romeo, "crypt", "Romeo", map[string]string{"persistentroom": "1", "publicroom": "0"})
	mucCreateRoom(t, juliet, "tmp", "Juliet", nil)
	mucMustJoin(t, romeo, "locked", "Romeo", "") // created, never configured

	id := mucID()
	resp := juliet.Request(fmt.Sprintf("<iq type='get' to='%s' id='%s'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>", mucService, id), id)
	var listed []string
	for _, it := range resp.Child("http://jabber.org/protocol/disco#items", "query").ChildrenNamed("", "item") {
		listed = append(listed, it.AttrValue("jid")+"="+it.AttrValue("name"))
	}
	if want := []string{mucRoom("hall") + "=The Hall", mucRoom("tmp") + "=tmp"}; !slices.Equal(listed, want) {
		t.Errorf("public rooms = %v, want %v", listed, want)
	}
	if p := mucJoin(juliet, "locked", "Juliet", ""); xmpptest.ErrorCondition(p) != "item-not-found" {
		t.Errorf("entering a room waiting for configuration: %s, want item-not-found", p)
	}
	if items := mucDiscoItems(t, romeo, "localhost"); !slices.Contains(items, mucService) {
		t.Errorf("server disco#items %v lacks %s", items, mucService)
	}

	juliet.Sendf("<presence to='%s' type='unavailable'/>", mucOccupant("tmp", "Juliet"))
	juliet.Expect(mucIsSelf("tmp", "Juliet", "unavailable"))
	id = mucID()
	if resp := juliet.Request(fmt.Sprintf("<iq type='get' to='%s' id='%s'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", mucRoom("tmp"), id), id); xmpptest.ErrorCondition(resp) != "item-not-found" {
		t.Errorf("temporary room after its last occupant left: %s", resp)
	}

	mucMustJoin(t, juliet, "hall", "Juliet", "")
	id = mucID()
	resp = romeo.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><query xmlns='%s'><destroy jid='%s'><reason>moving</reason></destroy></query></iq>",
		mucRoom("hall"), id, nsMUCOwner, mucRoom("crypt")), id)
	if resp.Type != "result" {
		t.Fatalf("destroy: %s", resp)
	}
	destroyed := juliet.Expect(mucIsSelf("hall", "Juliet", "unavailable"))
	d := destroyed.Child(nsMUCUser, "x").Child(nsMUCUser, "destroy")
	if d.AttrValue("jid") != mucRoom("crypt") || d.Child(nsMUCUser, "reason").Text() != "moving" {
		t.Errorf("destroy notice: %s", destroyed)
	}
	s = s.Restart()
	romeo = mucLogin(s, "romeo")
	p := mucMustJoin(t, romeo, "hall", "Romeo", "")
	if !mucHasStatus(p, "201") {
		t.Errorf("a destroyed persistent room came back after a restart: %s", p)
	}
}

func mucDiscoItems(t *testing.T, c *xmpptest.Client, to string) []string {
	t.Helper()
	id := mucID()
	resp := c.Request(fmt.Sprintf("<iq type='get' to='%s' id='%s'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>", to, id), id)
	var out []string
	for _, it := range resp.Child("http://jabber.org/protocol/disco#items", "query").ChildrenNamed("", "item") {
		out = append(out, it.AttrValue("jid"))
	}
	return out
}

// TestMUCServiceLimits covers muc.create, muc.max_rooms_per_user,
// muc.max_messages_per_second, room passwords and maximum occupants.
func TestMUCServiceLimits(t *testing.T) {
	s := startMUC(t, func(c *config.Config) {
		c.MUC.Create = "admins"
		c.Server.Admins = []string{"romeo@localhost"}
	})
	romeo, juliet, nurse := mucLogin(s, "romeo"), mucLogin(s, "juliet"), mucLogin(s, "nurse")
	if p := mucJoin(juliet, "new", "Juliet", ""); xmpptest.ErrorCondition(p) != "not-allowed" {
		t.Errorf("non-admin creating a room: %s, want not-allowed", p)
	}
	mucCreateRoom(t, romeo, "safe", "Romeo", map[string]string{
		"passwordprotectedroom": "1", "roomsecret": "poison", "maxusers": "2",
	})
	joins := []struct {
		name   string
		client *xmpptest.Client
		x      string
		want   string
	}{
		{"no password", juliet, "", "not-authorized"},
		{"wrong password", juliet, "<password>dagger</password>", "not-authorized"},
		{"right password", juliet, "<password>poison</password>", ""},
		{"room full", nurse, "<password>poison</password>", "service-unavailable"},
	}
	for _, j := range joins {
		if p := mucJoin(j.client, "safe", j.client.JID.Localpart(), j.x); xmpptest.ErrorCondition(p) != j.want {
			t.Errorf("%s: %s, want %q", j.name, p, j.want)
		}
	}

	s2 := startMUC(t, func(c *config.Config) { c.MUC.MaxRoomsPerUser = 1; c.MUC.MaxMessagesPerSecond = 1 })
	juliet = mucLogin(s2, "juliet")
	mucCreateRoom(t, juliet, "first", "Juliet", map[string]string{"persistentroom": "1"})
	if p := mucJoin(juliet, "second", "Juliet", ""); xmpptest.ErrorCondition(p) != "not-allowed" {
		t.Errorf("creating a room over muc.max_rooms_per_user: %s, want not-allowed", p)
	}
	// Five messages at once pass a limit of one per second only if the
	// server takes four seconds to read them.
	for i := range 5 {
		juliet.Sendf("<message to='%s' type='groupchat' id='fast%d'><body>%d</body></message>", mucRoom("first"), i, i)
	}
	e := juliet.Expect(func(s *stanza.Stanza) bool { return strings.HasPrefix(s.ID, "fast") && s.Type == "error" })
	if se := stanza.ErrorOf(e); se == nil || se.Condition != "policy-violation" || se.Type != "wait" {
		t.Errorf("message over muc.max_messages_per_second: %s, want a policy-violation of type wait", e)
	}
}

// TestMUCDisconnectLeaves checks that an occupant whose session ends
// leaves the room, with and without initial presence.
func TestMUCDisconnectLeaves(t *testing.T) {
	s := startMUC(t)
	romeo := mucLogin(s, "romeo")
	mucCreateRoom(t, romeo, "tomb", "Romeo", nil)
	for _, res := range []string{"available", "silent!"} {
		juliet := s.Login("juliet", "juliet-secret", res)
		mucMustJoin(t, juliet, "tomb", "Juliet", "")
		romeo.Expect(mucIsFrom("tomb", "Juliet", ""))
		juliet.Close()
		if p := romeo.Expect(mucIsFrom("tomb", "Juliet", "unavailable")); mucItem(p).AttrValue("role") != "none" {
			t.Errorf("%s: presence after the session ended: %s", res, p)
		}
	}
}

// TestMUCSlixmpp has slixmpp's xep_0045 and xep_0313 plugins join a room,
// exchange messages with a Go client and read the room archive.
func TestMUCSlixmpp(t *testing.T) {
	requireSlixmpp(t)
	s := startMUC(t)
	romeo := mucLogin(s, "romeo")
	mucCreateRoom(t, romeo, "verona", "Romeo", map[string]string{"persistentroom": "1"})
	for _, body := range []string{"first", "second", "third"} {
		mucSay(romeo, "verona", body)
		romeo.Expect(mucIsGroupchat("verona", body))
	}

	host, port, _ := net.SplitHostPort(s.Addr("c2s"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, "testdata/slixmpp_muc.py", host, port, mucRoom("verona"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start slixmpp: %v", err)
	}
	romeo.Expect(mucIsFrom("verona", "Juliet", ""))
	romeo.Expect(mucIsGroupchat("verona", "hello from juliet"))
	mucSay(romeo, "verona", "hello from romeo")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("slixmpp: %v\n%s", err, stderr.String())
	}

	var got struct {
		SelfCodes  []int    `json:"self_codes"`
		Role       string   `json:"role"`
		Occupants  []string `json:"occupants"`
		History    []string `json:"history"`
		EchoID     string   `json:"echo_stanza_id"`
		EchoIDBy   string   `json:"echo_stanza_id_by"`
		FromRomeo  string   `json:"from_romeo"`
		Archive    []string `json:"archive"`
		ArchiveIDs []string `json:"archive_ids"`
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("slixmpp output %q: %v\n%s", stdout.String(), err, stderr.String())
	}
	if !slices.Contains(got.SelfCodes, 110) || got.Role != "participant" || !slices.Contains(got.Occupants, "Romeo") {
		t.Errorf("join as slixmpp saw it: codes %v, role %q, occupants %v", got.SelfCodes, got.Role, got.Occupants)
	}
	if !slices.Equal(got.History, []string{"second", "third"}) {
		t.Errorf("history with maxstanzas=2 = %v", got.History)
	}
	if got.EchoIDBy != mucRoom("verona") || got.EchoID == "" || got.FromRomeo != "hello from romeo" {
		t.Errorf("messages: stanza-id %q by %q, from romeo %q", got.EchoID, got.EchoIDBy, got.FromRomeo)
	}
	wantArchive := []string{"first", "second", "third", "hello from juliet", "hello from romeo"}
	if !slices.Equal(got.Archive, wantArchive) {
		t.Errorf("archive read with xep_0313 = %v, want %v", got.Archive, wantArchive)
	}
	if len(got.ArchiveIDs) != 5 || got.ArchiveIDs[3] != got.EchoID {
		t.Errorf("archive ids %v do not include the stanza-id %q of juliet's message", got.ArchiveIDs, got.EchoID)
	}
}

// fanoutOccupants and fanoutMessages size TestMUCFanout.
const (
	fanoutOccupants = 500
	fanoutMessages  = 20
)

// TestMUCFanout measures how fast one room delivers messages to 500
// occupants: every occupant is a client of this process on a plain TCP
// stream, and the rate counts deliveries (messages times occupants) from
// the first send to the last receipt. docs/benchmarks.md records results.
func TestMUCFanout(t *testing.T) {
	if testing.Short() {
		t.Skip("joins 500 clients to one room")
	}
	s := xmpptest.Start(t, func(c *config.Config) {
		c.TLS.Required = false
		c.Auth.SCRAMIterations = 16 // logins are not what this test measures
		c.MUC.MaxOccupants, c.MUC.MaxMessagesPerSecond = 0, 0
	})
	s.AddUser("owner", "owner-secret")
	owner := s.Login("owner", "owner-secret", "res")
	mucCreateRoom(t, owner, "arena", "Owner", nil)

	clients := make([]*xmpptest.Client, fanoutOccupants)
	joinStart := time.Now()
	for i := range clients {
		name := fmt.Sprintf("fan%03d", i)
		s.AddUser(name, "fan-secret")
		clients[i] = mucConnectPlain(t, s, name, "fan-secret")
		if p := mucJoin(clients[i], "arena", name, "<history maxchars='0'/>"); p.Type == "error" {
			t.Fatalf("%s joining: %s", name, p)
		}
	}
	joinTime := time.Since(joinStart)
	drain(t, clients, func(c *xmpptest.Client) error { c.Sync(); return nil })

	start := time.Now()
	for i := range fanoutMessages {
		mucSay(owner, "arena", fmt.Sprintf("fan-out %d", i))
	}
	drain(t, clients, func(c *xmpptest.Client) error {
		for i := range fanoutMessages {
			if _, err := c.TryExpect(mucIsGroupchat("arena", fmt.Sprintf("fan-out %d", i))); err != nil {
				return fmt.Errorf("%s, message %d: %w", c.JID, i, err)
			}
		}
		return nil
	})
	elapsed := time.Since(start)
	deliveries := fanoutOccupants * fanoutMessages
	t.Logf("%d occupants joined in %v; %d messages delivered %d times in %v: %.0f deliveries/s, %v per message",
		fanoutOccupants, joinTime.Round(time.Millisecond), fanoutMessages, deliveries,
		elapsed.Round(time.Millisecond), float64(deliveries)/elapsed.Seconds(),
		(elapsed / fanoutMessages).Round(time.Microsecond))
	// Destroying the room notifies each occupant once, whereas 500
	// sessions leaving one by one at shutdown would each be announced to
	// all the others.
	id := mucID()
	resp := owner.Request(fmt.Sprintf("<iq type='set' to='%s' id='%s'><query xmlns='%s'><destroy/></query></iq>",
		mucRoom("arena"), id, nsMUCOwner), id)
	if resp.Type != "result" {
		t.Errorf("destroy the room: %s", resp)
	}
}

// drain runs f for every client in parallel and fails the test with the
// first error.
func drain(t *testing.T, clients []*xmpptest.Client, f func(*xmpptest.Client) error) {
	t.Helper()
	errs := make(chan error, len(clients))
	for _, c := range clients {
		go func() { errs <- f(c) }()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// mucConnectPlain logs in over plain TCP, for servers that do not
// require TLS, and binds without sending presence.
func mucConnectPlain(t *testing.T, s *xmpptest.Server, user, password string) *xmpptest.Client {
	t.Helper()
	c := xmpptest.Dial(t, s.Addr("c2s"), s.Domain())
	if err := c.Open(); err != nil {
		t.Fatalf("open stream: %v", err)
	}
	if err := c.Auth(msasl.ScramSha256, user, password); err != nil {
		t.Fatalf("authenticate %s: %v", user, err)
	}
	if err := c.Bind("fan"); err != nil {
		t.Fatalf("bind %s: %v", user, err)
	}
	return c
}

func TestMUCShutdownSends332(t *testing.T) {
	s := startMUC(t)
	romeo := mucLogin(s, "romeo")
	juliet := mucLogin(s, "juliet")
	mucCreateRoom(t, romeo, "tomb", "romeo", nil)
	mucMustJoin(t, juliet, "tomb", "juliet", "")
	romeo.Sync()
	s.Stop()
	for _, c := range []*xmpptest.Client{romeo, juliet} {
		_, err := c.TryExpect(func(el *stanza.Stanza) bool {
			return el.Name == stanza.Presence && el.Type == "unavailable" && mucHasStatus(el, "332")
		})
		if err != nil {
			t.Errorf("%s: no unavailable presence with status 332: %v", c.JID, err)
		}
	}
}
