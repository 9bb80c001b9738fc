package e2e

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/storage"
)

const (
	pepNS          = "http://jabber.org/protocol/pubsub"
	pepNSOwner     = pepNS + "#owner"
	pepNSEvent     = pepNS + "#event"
	pepNSErrors    = pepNS + "#errors"
	pepNSDiscoInfo = "http://jabber.org/protocol/disco#info"

	pepNodeDevices   = "urn:xmpp:omemo:2:devices"
	pepNodeBundles   = "urn:xmpp:omemo:2:bundles"
	pepNodeNick      = "http://jabber.org/protocol/nick"
	pepNodeBookmarks = "urn:xmpp:bookmarks:1"

	// pepCapsNode is the caps node the test clients announce.
	pepCapsNode = "https://tern.example/test-client"
)

// Payloads as a client would send them, with double quotes, whitespace
// and character references, so that a server that re-serializes them
// fails the byte-for-byte comparisons.
const (
	pepDevicesPayload = `<devices xmlns="urn:xmpp:omemo:2">` + "\n  " +
		`<device id="12345" label="Romeo&apos;s phone"/>` + "\n  " + `<device id="4223"/></devices>`
	pepBundlePayload = `<bundle xmlns="urn:xmpp:omemo:2"><spk id="1">BQ&#x3D;&#61;</spk>` +
		`<spks>Zm9vYmFy</spks><ik>BSnC+/2Q</ik><prekeys><pk id="1">BaYm</pk><pk id="2">BdQ=</pk></prekeys></bundle>`
	pepLegacyDevicesPayload = `<list xmlns='eu.siacs.conversations.axolotl'><device id='12345'/></list>`
	pepLegacyBundlePayload  = `<bundle xmlns='eu.siacs.conversations.axolotl'>` +
		`<signedPreKeyPublic signedPreKeyId='1'>BQ==</signedPreKeyPublic><identityKey>BSnC</identityKey></bundle>`
)

// pepOptions returns a publish-options element with the given fields.
func pepOptions(fields ...string) string {
	var sb strings.Builder
	sb.WriteString("<publish-options><x xmlns='jabber:x:data' type='submit'>")
	sb.WriteString("<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>")
	for i := 0; i+1 < len(fields); i += 2 {
		fmt.Fprintf(&sb, "<field var='%s'><value>%s</value></field>", fields[i], fields[i+1])
	}
	sb.WriteString("</x></publish-options>")
	return sb.String()
}

// pepPublish publishes one item and returns the response.
func pepPublish(c *xmpptest.Client, id, node, itemID, payload, options string) *stanza.Stanza {
	return c.Request(fmt.Sprintf("<iq type='set' id='%s'><pubsub xmlns='%s'><publish node='%s'><item id='%s'>%s</item></publish>%s</pubsub></iq>",
		id, pepNS, node, itemID, payload, options), id)
}

// pepMustPublish publishes one item and fails the test on an error.
func pepMustPublish(t *testing.T, c *xmpptest.Client, node, itemID, payload, options string) {
	t.Helper()
	id := "pub-" + strings.NewReplacer(":", "-", "/", "-").Replace(node+"-"+itemID)
	if resp := pepPublish(c, id, node, itemID, payload, options); resp.Type != "result" {
		t.Fatalf("publish to %s: %s", node, resp)
	}
}

// pepItems requests the items of a node of the account 'to'.
func pepItems(c *xmpptest.Client, id, to, node, inner string) *stanza.Stanza {
	return c.Request(fmt.Sprintf("<iq type='get' id='%s' to='%s'><pubsub xmlns='%s'><items node='%s'>%s</items></pubsub></iq>",
		id, to, pepNS, node, inner), id)
}

// pepBefriend gives two accounts a mutual presence subscription.
func pepBefriend(t *testing.T, s *xmpptest.Server, a, b string, groups ...string) {
	t.Helper()
	ctx := context.Background()
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		item := storage.RosterItem{JID: pair[1] + "@localhost", Subscription: storage.SubBoth, Listed: true, Groups: groups}
		if _, err := s.Store().PutRosterItem(ctx, storage.Owner{Domain: "localhost", Local: pair[0]}, item); err != nil {
			t.Fatalf("roster item %s → %s: %v", pair[0], pair[1], err)
		}
	}
}

// pepCapsVer returns the XEP-0115 ver of a client with one identity,
// client/pc named "Tern test", and the given features.
func pepCapsVer(features []string) string {
	sorted := slices.Clone(features)
	slices.Sort(sorted)
	s := "client/pc//Tern test<" + strings.Join(sorted, "<") + "<"
	sum := sha1.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// pepCapsPresence sends available presence with entity capabilities for
// features, announced as ver.
func pepCapsPresence(c *xmpptest.Client, ver string) {
	c.Sendf("<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='%s' ver='%s'/></presence>", pepCapsNode, ver)
}

func pepIsDiscoQuery(el *stanza.Stanza) bool {
	return el.Name == stanza.IQ && el.Type == "get" && el.Child(pepNSDiscoInfo, "query") != nil
}

// pepAnswerCaps waits for the server's disco#info query about ver and
// replies with the features.
func pepAnswerCaps(t *testing.T, c *xmpptest.Client, ver string, features []string) {
	t.Helper()
	q := c.Expect(pepIsDiscoQuery)
	if node := q.Child(pepNSDiscoInfo, "query").AttrValue("node"); node != pepCapsNode+"#"+ver {
		t.Errorf("caps query for node %q, want %q", node, pepCapsNode+"#"+ver)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "<iq type='result' id='%s' to='%s'><query xmlns='%s' node='%s#%s'><identity category='client' type='pc' name='Tern test'/>",
		q.ID, q.RawFrom, pepNSDiscoInfo, pepCapsNode, ver)
	for _, f := range features {
		fmt.Fprintf(&sb, "<feature var='%s'/>", f)
	}
	sb.WriteString("</query></iq>")
	c.Send(sb.String())
}

// pepLoginWithCaps logs in without presence, then sends presence with
// caps for features, and replies to the server's query when ask is set.
func pepLoginWithCaps(t *testing.T, s *xmpptest.Server, user, resource string, features []string, ask bool) *xmpptest.Client {
	t.Helper()
	c := s.Login(user, user[:1]+"-secret", resource+"!")
	ver := pepCapsVer(features)
	pepCapsPresence(c, ver)
	if ask {
		pepAnswerCaps(t, c, ver, features)
	}
	return c
}

// pepIsEvent matches a pubsub event notification for node from the bare
// JID from.
func pepIsEvent(from, node string) func(*stanza.Stanza) bool {
	return func(el *stanza.Stanza) bool {
		if el.Name != stanza.Message || el.RawFrom != from {
			return false
		}
		ev := el.Child(pepNSEvent, "event")
		return ev != nil && ev.Child(pepNSEvent, "items").AttrValue("node") == node
	}
}

// pepErrorApp returns the pubsub#errors condition of an error response.
func pepErrorApp(el *stanza.Stanza) string {
	for _, c := range el.Child("", "error").Elements() {
		if c.Name.Space == pepNSErrors {
			return c.Name.Local
		}
	}
	return ""
}

// pepContains reports whether the stanza's bytes, as received,
// contain payload exactly.
func pepContains(el *stanza.Stanza, payload string) bool {
	return bytes.Contains(el.Inner, []byte(payload))
}

// TestPEPOMEMOOpenAccess publishes OMEMO device lists and bundles with
// access_model=open, and reads them back as an account that is not in
// the publisher's roster.
func TestPEPOMEMOOpenAccess(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	open := pepOptions("pubsub#access_model", "open")
	cases := []struct {
		node, id, payload string
	}{
		{pepNodeDevices, "current", pepDevicesPayload},
		{pepNodeBundles, "12345", pepBundlePayload},
		{"eu.siacs.conversations.axolotl.devicelist", "current", pepLegacyDevicesPayload},
		{"eu.siacs.conversations.axolotl.bundles:12345", "current", pepLegacyBundlePayload},
	}
	for _, tc := range cases {
		pepMustPublish(t, romeo, tc.node, tc.id, tc.payload, open)
	}
	for i, tc := range cases {
		resp := pepItems(juliet, fmt.Sprintf("all%d", i), "romeo@localhost", tc.node, "")
		if resp.Type != "result" {
			t.Errorf("items of %s: %s", tc.node, resp)
			continue
		}
		if !pepContains(resp, tc.payload) {
			t.Errorf("items of %s do not carry the payload byte for byte:\n%s\nwant\n%s", tc.node, resp.Inner, tc.payload)
		}
		byID := pepItems(juliet, fmt.Sprintf("id%d", i), "romeo@localhost", tc.node, "<item id='"+tc.id+"'/>")
		if !pepContains(byID, tc.payload) {
			t.Errorf("item %s of %s by id: %s", tc.id, tc.node, byID)
		}
	}
	missing := pepItems(juliet, "missing", "romeo@localhost", "urn:xmpp:omemo:2:nothing", "")
	if got := xmpptest.ErrorCondition(missing); got != "item-not-found" {
		t.Errorf("items of a missing node: %q, want item-not-found", got)
	}
}

// TestPEPNotificationsFollowCaps checks the implicit subscription of
// XEP-0163: a contact announcing +notify in its caps gets the last item
// when it becomes available and later notifications, and a client with a
// known caps hash is not asked again.
func TestPEPNotificationsFollowCaps(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "nurse")
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	pepMustPublish(t, romeo, pepNodeDevices, "current", pepDevicesPayload, pepOptions("pubsub#access_model", "open"))

	features := []string{"http://jabber.org/protocol/caps", pepNSDiscoInfo, pepNodeDevices + "+notify"}
	nurse := pepLoginWithCaps(t, s, "nurse", "station", features, true)
	last := nurse.Expect(pepIsEvent("romeo@localhost", pepNodeDevices))
	if !pepContains(last, pepDevicesPayload) {
		t.Errorf("last item not byte for byte: %s", last.Inner)
	}
	if last.Type != "headline" || last.Child(stanza.NSDelay, "delay") == nil {
		t.Errorf("last item is not a headline with a delay stamp: %s", last)
	}

	// A second resource of romeo announces the same caps. The server has
	// verified the hash already, so it sends romeo's own last item
	// without a query.
	phone := pepLoginWithCaps(t, s, "romeo", "phone", features, false)
	phone.Expect(pepIsEvent("romeo@localhost", pepNodeDevices))
	for _, el := range phone.Sync() {
		if pepIsDiscoQuery(el) {
			t.Errorf("server queried a known caps hash again: %s", el)
		}
	}

	newer := `<devices xmlns="urn:xmpp:omemo:2"><device id="12345"/><device id="999"/></devices>`
	pepMustPublish(t, romeo, pepNodeDevices, "current", newer, "")
	for _, c := range []*xmpptest.Client{nurse, phone} {
		ev := c.Expect(pepIsEvent("romeo@localhost", pepNodeDevices))
		if !pepContains(ev, newer) || ev.Child(stanza.NSDelay, "delay") != nil {
			t.Errorf("%s: notification %s", c.JID, ev)
		}
	}
	// Juliet is not a contact and announced no caps; romeo's resource
	// that sent no caps gets nothing either.
	pepExpectNoEvent(t, juliet)
	pepExpectNoEvent(t, romeo)
}

func pepExpectNoEvent(t *testing.T, c *xmpptest.Client) {
	t.Helper()
	for _, el := range c.Sync() {
		if el.Name == stanza.Message && el.Child(pepNSEvent, "event") != nil {
			t.Errorf("%s got an unexpected notification: %s", c.JID, el)
		}
	}
}

// TestPEPCapsHashMismatchNotCached checks that a disco#info result that
// does not match the announced hash is used for that client only.
func TestPEPCapsHashMismatchNotCached(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "nurse")
	romeo := s.Login("romeo", "r-secret", "orchard")
	pepMustPublish(t, romeo, pepNodeNick, "current", "<nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick>", "")
	features := []string{pepNSDiscoInfo, pepNodeNick + "+notify"}
	bogus := "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
	for _, res := range []string{"a", "b"} {
		c := s.Login("nurse", "n-secret", res+"!")
		pepCapsPresence(c, bogus)
		// Each resource is queried, because the first response did not
		// match the hash. Each still gets the item its features request.
		pepAnswerCaps(t, c, bogus, features)
		c.Expect(pepIsEvent("romeo@localhost", pepNodeNick))
	}
}

func TestPEPPresenceAccessModel(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "nurse")
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	nurse := s.Login("nurse", "n-secret", "station")
	nick := "<nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick>"
	pepMustPublish(t, romeo, pepNodeNick, "current", nick, "")

	refused := pepItems(juliet, "n1", "romeo@localhost", pepNodeNick, "")
	if got := xmpptest.ErrorCondition(refused); got != "not-authorized" {
		t.Errorf("non-contact's items request: condition %q, want not-authorized", got)
	}
	if got := pepErrorApp(refused); got != "presence-subscription-required" {
		t.Errorf("non-contact's items request: pubsub condition %q, want presence-subscription-required", got)
	}
	if bytes.Contains(refused.Inner, []byte("Romeo<")) {
		t.Errorf("refusal carries the payload: %s", refused)
	}
	allowed := pepItems(nurse, "n2", "romeo@localhost", pepNodeNick, "")
	if allowed.Type != "result" || !pepContains(allowed, nick) {
		t.Errorf("contact's items request: %s", allowed)
	}
	own := pepPublish(juliet, "n3", pepNodeNick, "current", nick, "")
	if own.Type != "result" {
		t.Fatalf("publishing to juliet's own node: %s", own)
	}
	other := juliet.Request("<iq type='set' id='n4' to='romeo@localhost'><pubsub xmlns='"+pepNS+
		"'><publish node='x'><item><x xmlns='y'/></item></publish></pubsub></iq>", "n4")
	if got := xmpptest.ErrorCondition(other); got != "forbidden" {
		t.Errorf("publish to another account: condition %q, want forbidden", got)
	}
}

// TestPEPRosterAccessModel lets only the contacts in an allowed roster
// group read a node.
func TestPEPRosterAccessModel(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "nurse", "Family")
	pepBefriend(t, s, "romeo", "juliet", "Friends")
	romeo := s.Login("romeo", "r-secret", "orchard")
	nurse := s.Login("nurse", "n-secret", "station")
	juliet := s.Login("juliet", "j-secret", "balcony")
	pepMustPublish(t, romeo, "urn:example:diary", "today", "<entry xmlns='urn:example:diary'>Met Juliet</entry>",
		pepOptions("pubsub#access_model", "roster"))
	configure := "<iq type='set' id='cfg'><pubsub xmlns='" + pepNSOwner + "'><configure node='urn:example:diary'>" +
		"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>" + pepNS + "#node_config</value></field>" +
		"<field var='pubsub#roster_groups_allowed'><value>Friends</value></field></x></configure></pubsub></iq>"
	if resp := romeo.Request(configure, "cfg"); resp.Type != "result" {
		t.Fatalf("configure: %s", resp)
	}
	if resp := pepItems(juliet, "r1", "romeo@localhost", "urn:example:diary", ""); resp.Type != "result" {
		t.Errorf("member of an allowed group: %s", resp)
	}
	resp := pepItems(nurse, "r2", "romeo@localhost", "urn:example:diary", "")
	if xmpptest.ErrorCondition(resp) != "not-authorized" || pepErrorApp(resp) != "not-in-roster-group" {
		t.Errorf("contact outside the allowed groups: %s", resp)
	}
}

func TestPEPPublishOptionsPrecondition(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	pepMustPublish(t, romeo, pepNodeBundles, "1", pepBundlePayload, pepOptions("pubsub#access_model", "open", "pubsub#max_items", "max"))

	cases := []struct {
		name, options string
		ok            bool
	}{
		{"same options", pepOptions("pubsub#access_model", "open"), true},
		{"max spelled as the limit", pepOptions("pubsub#max_items", "1000"), true},
		{"no options", "", true},
		{"other access model", pepOptions("pubsub#access_model", "presence"), false},
		{"other max items", pepOptions("pubsub#max_items", "1"), false},
		{"unsupported field", pepOptions("pubsub#color", "red"), false},
	}
	for i, tc := range cases {
		resp := pepPublish(romeo, fmt.Sprintf("po%d", i), pepNodeBundles, "2", pepBundlePayload, tc.options)
		switch {
		case tc.ok && resp.Type != "result":
			t.Errorf("%s: %s", tc.name, resp)
		case !tc.ok && (xmpptest.ErrorCondition(resp) != "conflict" || pepErrorApp(resp) != "precondition-not-met"):
			t.Errorf("%s: %s, want conflict with precondition-not-met", tc.name, resp)
		}
	}
	get := romeo.Request("<iq type='get' id='cfg'><pubsub xmlns='"+pepNSOwner+"'><configure node='"+pepNodeBundles+"'/></pubsub></iq>", "cfg")
	if v := pepFormValue(get, "pubsub#access_model"); v != "open" {
		t.Errorf("access model after a failed precondition: %q, want open", v)
	}
	if v := pepFormValue(get, "pubsub#max_items"); v != "max" {
		t.Errorf("max_items of the node: %q, want max", v)
	}
}

// pepFormValue returns the first value of a field of the data form in a
// pubsub owner configure response.
func pepFormValue(resp *stanza.Stanza, field string) string {
	cfg := resp.Child(pepNSOwner, "pubsub").Child(pepNSOwner, "configure")
	for _, f := range cfg.Child("jabber:x:data", "x").ChildrenNamed("jabber:x:data", "field") {
		if f.AttrValue("var") == field {
			return f.Child("jabber:x:data", "value").Text()
		}
	}
	return ""
}

// TestPEPRetractNotification retracts an item with notify='true'. The
// nurse's disco#info response to the caps query starts sending her the
// last items of her contacts' nodes on a goroutine of its own, which may
// read the node after the publication. The nurse may then get n1 once
// more, as a last item with a delay stamp, but never after the
// retraction.
func TestPEPRetractNotification(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "nurse")
	romeo := s.Login("romeo", "r-secret", "orchard")
	features := []string{pepNSDiscoInfo, pepNodeNick + "+notify"}
	nurse := pepLoginWithCaps(t, s, "nurse", "station", features, true)
	nurse.Sync()
	nick := "<nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick>"
	pepMustPublish(t, romeo, pepNodeNick, "n1", nick, "")
	nurse.Expect(pepIsEvent("romeo@localhost", pepNodeNick))

	resp := romeo.Request("<iq type='set' id='rt'><pubsub xmlns='"+pepNS+"'><retract node='"+pepNodeNick+
		"' notify='true'><item id='n1'/></retract></pubsub></iq>", "rt")
	if resp.Type != "result" {
		t.Fatalf("retract: %s", resp)
	}
	var retract *stanza.Element
	for resent := 0; ; resent++ {
		ev := nurse.Expect(pepIsEvent("romeo@localhost", pepNodeNick))
		items := ev.Child(pepNSEvent, "event").Child(pepNSEvent, "items")
		if retract = items.Child(pepNSEvent, "retract"); retract != nil {
			break
		}
		if resent > 0 || items.Child(pepNSEvent, "item").AttrValue("id") != "n1" || ev.Child(stanza.NSDelay, "delay") == nil {
			t.Fatalf("event before the retraction notification: %s, want at most one n1 with a delay stamp", ev)
		}
	}
	if id := retract.AttrValue("id"); id != "n1" {
		t.Errorf("retraction notification for item %q, want n1", id)
	}
	for _, el := range nurse.Sync() {
		if pepIsEvent("romeo@localhost", pepNodeNick)(el) {
			t.Errorf("event after the retraction notification: %s", el)
		}
	}

	again := romeo.Request("<iq type='set' id='rt2'><pubsub xmlns='"+pepNS+"'><retract node='"+pepNodeNick+
		"'><item id='n1'/></retract></pubsub></iq>", "rt2")
	if got := xmpptest.ErrorCondition(again); got != "item-not-found" {
		t.Errorf("retracting a missing item: %q, want item-not-found", got)
	}
}

// TestPEPLastItemOnContactPresence publishes while the contact is
// offline; its initial presence brings the last item (XEP-0163 §6).
func TestPEPLastItemOnContactPresence(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "juliet")
	romeo := s.Login("romeo", "r-secret", "orchard")
	first := "<nick xmlns='http://jabber.org/protocol/nick'>Montague</nick>"
	second := "<nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick>"
	pepMustPublish(t, romeo, pepNodeNick, "a", first, pepOptions("pubsub#max_items", "10"))
	pepMustPublish(t, romeo, pepNodeNick, "b", second, "")

	juliet := pepLoginWithCaps(t, s, "juliet", "balcony", []string{pepNSDiscoInfo, pepNodeNick + "+notify"}, true)
	ev := juliet.Expect(pepIsEvent("romeo@localhost", pepNodeNick))
	if !pepContains(ev, second) || pepContains(ev, first) {
		t.Errorf("last item on presence: %s, want only the newest item", ev)
	}
	for _, el := range juliet.Sync() {
		if pepIsEvent("romeo@localhost", pepNodeNick)(el) {
			t.Errorf("more than one last item: %s", el)
		}
	}
}

func TestPEPAvatarHashInPresence(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "juliet")
	juliet := s.Login("juliet", "j-secret", "balcony")
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))

	image := []byte("\x89PNG\r\n\x1a\nnot really an image")
	sum := sha1.Sum(image)
	hash := hex.EncodeToString(sum[:])
	data := base64.StdEncoding.EncodeToString(image)
	pepMustPublish(t, romeo, "urn:xmpp:avatar:data", hash, "<data xmlns='urn:xmpp:avatar:data'>"+data+"</data>", "")
	meta := fmt.Sprintf("<metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='%d' id='%s' height='1' width='1' type='image/png'/></metadata>",
		len(image), hash)
	pepMustPublish(t, romeo, "urn:xmpp:avatar:metadata", hash, meta, "")

	// Publishing the metadata sends the presence again with the hash.
	p := juliet.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
	if got := pepPhotoHash(p); got != hash {
		t.Errorf("presence after publishing metadata has photo %q, want %q: %s", got, hash, p)
	}
	// Later presence from the client carries the hash too, replacing the
	// client's own.
	romeo.Send("<presence><show>away</show><x xmlns='vcard-temp:x:update'><photo>0000</photo></x></presence>")
	p = juliet.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
	if got := pepPhotoHash(p); got != hash || p.Child("", "show").Text() != "away" {
		t.Errorf("presence update: %s, want show away and photo %s", p, hash)
	}

	vc := juliet.Request("<iq type='get' id='vc' to='romeo@localhost'><vCard xmlns='vcard-temp'/></iq>", "vc")
	photo := vc.Child("vcard-temp", "vCard").Child("vcard-temp", "PHOTO")
	if photo.Child("vcard-temp", "BINVAL").Text() != data || photo.Child("vcard-temp", "TYPE").Text() != "image/png" {
		t.Errorf("vCard of an account with a PEP avatar: %s", vc)
	}

	// A client that announces an empty photo keeps it (XEP-0398), and the
	// next presence without one gets the hash again.
	romeo.Send("<presence><show>xa</show><x xmlns='vcard-temp:x:update'><photo/></x></presence>")
	p = juliet.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
	if p.Child("vcard-temp:x:update", "x") == nil || pepPhotoHash(p) != "" {
		t.Errorf("presence with an empty photo: %s, want it unchanged", p)
	}
	romeo.Send("<presence/>")
	p = juliet.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
	if got := pepPhotoHash(p); got != hash {
		t.Errorf("presence without photo: %s, want photo %s", p, hash)
	}

	// An empty <metadata/> disables the avatar: the photo is empty.
	pepMustPublish(t, romeo, "urn:xmpp:avatar:metadata", "off", "<metadata xmlns='urn:xmpp:avatar:metadata'/>", "")
	p = juliet.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
	if x := p.Child("vcard-temp:x:update", "x"); x == nil || x.Child("vcard-temp:x:update", "photo") == nil || pepPhotoHash(p) != "" {
		t.Errorf("presence after disabling the avatar: %s, want an empty photo", p)
	}
	// With the PEP avatar disabled, the hash of a vCard photo that the
	// client announces itself goes out unchanged (XEP-0153).
	romeo.Send("<presence><x xmlns='vcard-temp:x:update'><photo>1234abcd</photo></x></presence>")
	p = juliet.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
	if got := pepPhotoHash(p); got != "1234abcd" {
		t.Errorf("vCard photo hash with the PEP avatar disabled: %s, want photo 1234abcd", p)
	}
}

func pepPhotoHash(p *stanza.Stanza) string {
	return p.Child("vcard-temp:x:update", "x").Child("vcard-temp:x:update", "photo").Text()
}

// TestPEPBookmarks stores XEP-0402 bookmarks that only the owner reads,
// and reads them back through the XEP-0048 node too.
func TestPEPBookmarks(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "juliet")
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	options := pepOptions("pubsub#persist_items", "true", "pubsub#max_items", "max",
		"pubsub#send_last_published_item", "never", "pubsub#access_model", "whitelist")
	play := "<conference xmlns='urn:xmpp:bookmarks:1' name='The Play&apos;s the Thing' autojoin='true'><nick>JC</nick></conference>"
	orchard := "<conference xmlns='urn:xmpp:bookmarks:1' autojoin='false'/>"
	pepMustPublish(t, romeo, pepNodeBookmarks, "theplay@conference.localhost", play, options)
	pepMustPublish(t, romeo, pepNodeBookmarks, "orchard@conference.localhost", orchard, options)

	own := pepItems(romeo, "bm1", "romeo@localhost", pepNodeBookmarks, "")
	if !pepContains(own, play) || !pepContains(own, orchard) {
		t.Errorf("owner's bookmarks: %s", own)
	}
	if ids := pepItemIDs(own); !slices.Equal(ids, []string{"theplay@conference.localhost", "orchard@conference.localhost"}) {
		t.Errorf("bookmark ids = %q", ids)
	}
	other := pepItems(juliet, "bm2", "romeo@localhost", pepNodeBookmarks, "")
	if xmpptest.ErrorCondition(other) != "not-allowed" || pepErrorApp(other) != "closed-node" {
		t.Errorf("contact reading bookmarks: %s, want not-allowed with closed-node", other)
	}

	legacy := pepItems(romeo, "bm3", "romeo@localhost", "storage:bookmarks", "")
	storageEl := legacy.Child(pepNS, "pubsub").Child(pepNS, "items").Child(pepNS, "item").Child("storage:bookmarks", "storage")
	confs := storageEl.ChildrenNamed("storage:bookmarks", "conference")
	if len(confs) != 2 || confs[0].AttrValue("jid") != "theplay@conference.localhost" ||
		confs[0].AttrValue("name") != "The Play's the Thing" || confs[0].Child("storage:bookmarks", "nick").Text() != "JC" {
		t.Errorf("bookmarks through storage:bookmarks: %s", legacy)
	}

	// Publishing the XEP-0048 list keeps, changes and removes bookmarks.
	list := "<storage xmlns='storage:bookmarks'><conference jid='theplay@conference.localhost' name='The Play&apos;s the Thing' autojoin='true'><nick>JC</nick></conference>" +
		"<conference jid='ball@conference.localhost' autojoin='1'/></storage>"
	pepMustPublish(t, romeo, "storage:bookmarks", "current", list, "")
	after := pepItemIDs(pepItems(romeo, "bm4", "romeo@localhost", pepNodeBookmarks, ""))
	if !slices.Equal(after, []string{"theplay@conference.localhost", "ball@conference.localhost"}) {
		t.Errorf("bookmarks after a storage:bookmarks publish: %q", after)
	}
}

// pepItemIDs returns the item ids of an items result, in order.
func pepItemIDs(resp *stanza.Stanza) []string {
	var ids []string
	for _, it := range resp.Child(pepNS, "pubsub").Child(pepNS, "items").ChildrenNamed(pepNS, "item") {
		ids = append(ids, it.AttrValue("id"))
	}
	return ids
}

func TestPEPPurgeAndDelete(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	phone := pepLoginWithCaps(t, s, "romeo", "phone", []string{pepNSDiscoInfo, pepNodeNick + "+notify"}, true)
	pepMustPublish(t, romeo, pepNodeNick, "a", "<nick xmlns='http://jabber.org/protocol/nick'>R</nick>", "")
	phone.Expect(pepIsEvent("romeo@localhost", pepNodeNick))

	owner := func(id, action string) *stanza.Stanza {
		return romeo.Request("<iq type='set' id='"+id+"'><pubsub xmlns='"+pepNSOwner+"'><"+action+" node='"+pepNodeNick+"'/></pubsub></iq>", id)
	}
	if resp := owner("pg", "purge"); resp.Type != "result" {
		t.Fatalf("purge: %s", resp)
	}
	ev := phone.Expect(func(el *stanza.Stanza) bool { return el.Child(pepNSEvent, "event").Child(pepNSEvent, "purge") != nil })
	if ev.RawFrom != "romeo@localhost" {
		t.Errorf("purge notification from %q", ev.RawFrom)
	}
	if ids := pepItemIDs(pepItems(romeo, "after-purge", "romeo@localhost", pepNodeNick, "")); len(ids) != 0 {
		t.Errorf("items after purge: %q", ids)
	}
	if resp := owner("del", "delete"); resp.Type != "result" {
		t.Fatalf("delete: %s", resp)
	}
	phone.Expect(func(el *stanza.Stanza) bool { return el.Child(pepNSEvent, "event").Child(pepNSEvent, "delete") != nil })
	if got := xmpptest.ErrorCondition(owner("del2", "delete")); got != "item-not-found" {
		t.Errorf("deleting a deleted node: %q, want item-not-found", got)
	}
}

// TestPEPPersistsAcrossRestart checks that nodes, items, configuration
// and the caps cache survive a restart.
func TestPEPPersistsAcrossRestart(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "nurse")
	romeo := s.Login("romeo", "r-secret", "orchard")
	pepMustPublish(t, romeo, pepNodeDevices, "current", pepDevicesPayload, pepOptions("pubsub#access_model", "open"))
	pepMustPublish(t, romeo, pepNodeBundles, "12345", pepBundlePayload, pepOptions("pubsub#access_model", "open"))
	features := []string{pepNSDiscoInfo, pepNodeDevices + "+notify"}
	nurse := pepLoginWithCaps(t, s, "nurse", "station", features, true)
	nurse.Expect(pepIsEvent("romeo@localhost", pepNodeDevices))

	s = s.Restart()
	juliet := s.Login("juliet", "j-secret", "balcony")
	for i, tc := range []struct{ node, payload string }{{pepNodeDevices, pepDevicesPayload}, {pepNodeBundles, pepBundlePayload}} {
		resp := pepItems(juliet, fmt.Sprintf("r%d", i), "romeo@localhost", tc.node, "")
		if !pepContains(resp, tc.payload) {
			t.Errorf("%s after restart: %s", tc.node, resp)
		}
	}
	// The caps hash verified before the restart is read from storage:
	// the last item arrives without a new query.
	nurse = pepLoginWithCaps(t, s, "nurse", "station", features, false)
	nurse.Expect(pepIsEvent("romeo@localhost", pepNodeDevices))
	for _, el := range nurse.Sync() {
		if pepIsDiscoQuery(el) {
			t.Errorf("caps hash queried again after restart: %s", el)
		}
	}
}

// TestOMEMOMessageDeliveredByteForByte sends an OMEMO-encrypted message
// without a body and checks that its content arrives unchanged.
func TestOMEMOMessageDeliveredByteForByte(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	encrypted := `<encrypted xmlns="urn:xmpp:omemo:2"><header sid="12345">` +
		`<keys jid="juliet@localhost"><key rid="4223" kex="true">MwohBQ+/mLpF&#x2B;Zz0=</key><key rid="31">AAEC</key></keys>` +
		`<keys jid="romeo@localhost"><key rid="12345">BQID</key></keys></header>` +
		"\n" + `<payload>U2VjcmV0IG1lc3NhZ2U=</payload></encrypted>`
	romeo.Send("<message to='juliet@localhost' type='chat' id='omemo1'>" + encrypted +
		"<store xmlns='urn:xmpp:hints'/><encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:omemo:2'/></message>")
	msg := juliet.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.ID == "omemo1" })
	if !pepContains(msg, encrypted) {
		t.Errorf("encrypted element changed on the way:\n%s\nwant\n%s", msg.Inner, encrypted)
	}
	if msg.Child("", "body") != nil {
		t.Errorf("a body was added: %s", msg)
	}
	if msg.RawFrom != "romeo@localhost/orchard" || msg.Type != "chat" {
		t.Errorf("message from %q type %q", msg.RawFrom, msg.Type)
	}
}

// TestPEPFederatedContact runs PEP between two servers: the contact on
// the other server learns the publisher's items from its caps, and its
// items request crosses the server-to-server link.
func TestPEPFederatedContact(t *testing.T) {
	a := startFederated(t, "a.test")
	b := startFederated(t, "b.test")
	a.S2S().SetAddr("b.test", b.Addr("s2s"))
	b.S2S().SetAddr("a.test", a.Addr("s2s"))
	a.AddUser("romeo", "r-secret")
	b.AddUser("juliet", "j-secret")
	ctx := context.Background()
	for _, side := range []struct {
		s            *xmpptest.Server
		owner, other string
	}{{a, "romeo", "juliet@b.test"}, {b, "juliet", "romeo@a.test"}} {
		item := storage.RosterItem{JID: side.other, Subscription: storage.SubBoth, Listed: true}
		if _, err := side.s.Store().PutRosterItem(ctx, storage.Owner{Domain: side.s.Domain(), Local: side.owner}, item); err != nil {
			t.Fatalf("roster item: %v", err)
		}
	}
	romeo := a.Login("romeo", "r-secret", "orchard")
	pepMustPublish(t, romeo, pepNodeDevices, "current", pepDevicesPayload, "")

	// Both servers query Juliet's caps: hers for her own account, and
	// Romeo's when her presence reaches him.
	features := []string{pepNSDiscoInfo, pepNodeDevices + "+notify"}
	juliet := b.Login("juliet", "j-secret", "balcony!")
	ver := pepCapsVer(features)
	pepCapsPresence(juliet, ver)
	for range 2 {
		pepAnswerCaps(t, juliet, ver, features)
	}
	last := juliet.Expect(pepIsEvent("romeo@a.test", pepNodeDevices))
	if !pepContains(last, pepDevicesPayload) {
		t.Errorf("last item across servers: %s", last.Inner)
	}

	newer := `<devices xmlns="urn:xmpp:omemo:2"><device id="7"/></devices>`
	pepMustPublish(t, romeo, pepNodeDevices, "current", newer, "")
	ev := juliet.Expect(pepIsEvent("romeo@a.test", pepNodeDevices))
	if !pepContains(ev, newer) {
		t.Errorf("notification across servers: %s", ev.Inner)
	}
	resp := pepItems(juliet, "fed-items", "romeo@a.test", pepNodeDevices, "")
	if resp.Type != "result" || !pepContains(resp, newer) {
		t.Errorf("items request across servers: %s", resp)
	}
}

// TestPEPBlockedContact checks that a contact the publisher blocks gets
// no notifications and cannot read the publisher's items.
func TestPEPBlockedContact(t *testing.T) {
	s := newPair(t)
	pepBefriend(t, s, "romeo", "nurse")
	romeo := s.Login("romeo", "r-secret", "orchard")
	features := []string{pepNSDiscoInfo, pepNodeNick + "+notify"}
	nurse := pepLoginWithCaps(t, s, "nurse", "station", features, true)
	nurse.Sync()
	resp := romeo.Request("<iq type='set' id='blk'><block xmlns='urn:xmpp:blocking'><item jid='nurse@localhost'/></block></iq>", "blk")
	if resp.Type != "result" {
		t.Fatalf("block: %s", resp)
	}

	pepMustPublish(t, romeo, pepNodeNick, "current", "<nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick>",
		pepOptions("pubsub#access_model", "open"))
	romeo.Sync()
	pepExpectNoEvent(t, nurse)
	items := pepItems(nurse, "blocked-items", "romeo@localhost", pepNodeNick, "")
	if got := xmpptest.ErrorCondition(items); got != "service-unavailable" {
		t.Errorf("items request from a blocked contact: %q, want service-unavailable", got)
	}
}

// TestPEPWhitelistMember opens a whitelist node to one JID through the
// member affiliation, and closes it again.
func TestPEPWhitelistMember(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	node := "urn:example:letters"
	pepMustPublish(t, romeo, node, "1", "<letter xmlns='urn:example:letters'>Dear Juliet</letter>",
		pepOptions("pubsub#access_model", "whitelist"))
	setAffiliation := func(id, affiliation string) {
		t.Helper()
		resp := romeo.Request("<iq type='set' id='"+id+"'><pubsub xmlns='"+pepNSOwner+"'><affiliations node='"+node+"'>"+
			"<affiliation jid='juliet@localhost' affiliation='"+affiliation+"'/></affiliations></pubsub></iq>", id)
		if resp.Type != "result" {
			t.Fatalf("set affiliation %s: %s", affiliation, resp)
		}
	}

	if got := pepErrorApp(pepItems(juliet, "w1", "romeo@localhost", node, "")); got != "closed-node" {
		t.Errorf("before the affiliation: pubsub condition %q, want closed-node", got)
	}
	setAffiliation("a1", "member")
	if resp := pepItems(juliet, "w2", "romeo@localhost", node, ""); resp.Type != "result" {
		t.Errorf("member reading a whitelist node: %s", resp)
	}
	affs := romeo.Request("<iq type='get' id='a2'><pubsub xmlns='"+pepNSOwner+"'><affiliations node='"+node+"'/></pubsub></iq>", "a2")
	if !bytes.Contains(affs.Inner, []byte("jid='juliet@localhost' affiliation='member'")) {
		t.Errorf("affiliations list: %s", affs)
	}
	setAffiliation("a3", "none")
	if got := pepErrorApp(pepItems(juliet, "w3", "romeo@localhost", node, "")); got != "closed-node" {
		t.Errorf("after removing the affiliation: pubsub condition %q, want closed-node", got)
	}
}
