package push

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// memKV is an in-memory storage.KV.
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemKV() *memKV { return &memKV{m: map[string][]byte{}} }

func (kv *memKV) GetValue(_ context.Context, o storage.Owner, key string) ([]byte, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	v, ok := kv.m[o.String()+"|"+key]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return v, nil
}

func (kv *memKV) PutValue(_ context.Context, o storage.Owner, key string, value []byte) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.m[o.String()+"|"+key] = value
	return nil
}

func (kv *memKV) DeleteValue(_ context.Context, o storage.Owner, key string) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	delete(kv.m, o.String()+"|"+key)
	return nil
}

func element(t *testing.T, xml string) *stanza.Element {
	t.Helper()
	el, err := stanza.ParseElement([]byte(xml), "")
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func condition(err error) string {
	var se *stanza.Error
	if errors.As(err, &se) {
		return se.Condition
	}
	return ""
}

const optionsForm = "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='secret'><value>s</value></field></x>"

func TestParseEnable(t *testing.T) {
	cases := []struct {
		name    string
		xml     string
		cond    string // "" when valid
		options bool
	}{
		{"jid and node", "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'/>", "", false},
		{"with options", "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'>" + optionsForm + "</enable>", "", true},
		{"options without type", "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'><x xmlns='jabber:x:data'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field></x></enable>", "", true},
		{"no jid", "<enable xmlns='urn:xmpp:push:0' node='n1'/>", "bad-request", false},
		{"bad jid", "<enable xmlns='urn:xmpp:push:0' jid='a@' node='n1'/>", "jid-malformed", false},
		{"no node", "<enable xmlns='urn:xmpp:push:0' jid='push.example'/>", "bad-request", false},
		{"form of type form", "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'><x xmlns='jabber:x:data' type='form'/></enable>", "bad-request", false},
		{"other FORM_TYPE", "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'><x xmlns='jabber:x:data'><field var='FORM_TYPE'><value>urn:example</value></field></x></enable>", "bad-request", false},
		{"two forms", "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'>" + optionsForm + optionsForm + "</enable>", "bad-request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := parseEnable(element(t, tc.xml))
			if got := condition(err); got != tc.cond {
				t.Fatalf("error = %v, want condition %q", err, tc.cond)
			}
			if tc.cond != "" {
				return
			}
			if reg.Service.String() != "push.example" || reg.Node != "n1" {
				t.Errorf("registration = %s %s", reg.Service, reg.Node)
			}
			if (reg.Options != nil) != tc.options {
				t.Errorf("options = %v, want present %v", reg.Options, tc.options)
			}
			if reg.Options != nil && reg.Options.AttrValue("type") != "submit" {
				t.Errorf("options form type = %q, want submit", reg.Options.AttrValue("type"))
			}
		})
	}
}

func TestParseDisable(t *testing.T) {
	service, node, err := parseDisable(element(t, "<disable xmlns='urn:xmpp:push:0' jid='Push.Example'/>"))
	if err != nil || service.String() != "push.example" || node != "" {
		t.Errorf("disable without node = %v %q %v", service, node, err)
	}
	_, node, err = parseDisable(element(t, "<disable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'/>"))
	if err != nil || node != "n1" {
		t.Errorf("disable with node = %q %v", node, err)
	}
	if _, _, err := parseDisable(element(t, "<disable xmlns='urn:xmpp:push:0'/>")); condition(err) != "bad-request" {
		t.Errorf("disable without jid: %v", err)
	}
}

func TestPushable(t *testing.T) {
	cases := []struct {
		name string
		xml  string
		want bool
	}{
		{"chat with body", "<message to='r@l' type='chat'><body>hi</body></message>", true},
		{"no type", "<message to='r@l'><body>hi</body></message>", true},
		{"normal", "<message to='r@l' type='normal'><body>hi</body></message>", true},
		{"omemo", "<message to='r@l' type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>", true},
		{"omemo 2", "<message to='r@l' type='chat'><encrypted xmlns='urn:xmpp:omemo:2'/></message>", true},
		{"openpgp", "<message to='r@l' type='chat'><openpgp xmlns='urn:xmpp:openpgp:0'>x</openpgp></message>", true},
		{"legacy pgp", "<message to='r@l' type='chat'><x xmlns='jabber:x:encrypted'>x</x></message>", true},
		{"chat state", "<message to='r@l' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>", false},
		{"receipt", "<message to='r@l' type='chat'><received xmlns='urn:xmpp:receipts' id='1'/></message>", false},
		{"headline", "<message to='r@l' type='headline'><body>news</body></message>", false},
		{"error", "<message to='r@l' type='error'><body>hi</body></message>", false},
		{"groupchat to resource", "<message to='r@l/phone' type='groupchat'><body>hi</body></message>", true},
		{"groupchat to bare", "<message to='r@l' type='groupchat'><body>hi</body></message>", false},
		{"body in other namespace", "<message to='r@l' type='chat'><body xmlns='urn:example'>hi</body></message>", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			el, err := stanza.ParseElement([]byte(tc.xml), stanza.NSClient)
			if err != nil {
				t.Fatal(err)
			}
			s := &stanza.Stanza{Name: stanza.Message, Type: el.AttrValue("type"), To: jid.MustParse(el.AttrValue("to"))}
			s.SetChildren(el.Elements()...)
			if got := pushable(s); got != tc.want {
				t.Errorf("pushable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRecordCountsAndLimits(t *testing.T) {
	now := time.Unix(1000, 0)
	m := &module{minInterval: 5 * time.Second, now: func() time.Time { return now }, accounts: map[string]*accountState{}}
	account := jid.MustParse("romeo@localhost")
	regs := []registration{
		{Service: jid.MustParse("push.example"), Node: "a"},
		{Service: jid.MustParse("push.example"), Node: "b"},
	}
	msg := &stanza.Stanza{Name: stanza.Message, From: jid.MustParse("juliet@localhost/balcony"), To: account}
	msg.SetChildren(stanza.NewElement(stanza.NSClient, "body").AddText("secret words"))

	steps := []struct {
		advance time.Duration
		count   int
		due     int
	}{
		{0, 1, 2},               // first message notifies every registration
		{time.Second, 2, 0},     // within the interval: counted only
		{4 * time.Second, 3, 2}, // 5s after the first notification
		{4 * time.Second, 4, 0},
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		sum, due := m.record(account, msg, regs)
		if sum.count != st.count {
			t.Errorf("step %d: count = %d, want %d", i, sum.count, st.count)
		}
		if len(due) != st.due {
			t.Errorf("step %d: %d registrations due, want %d", i, len(due), st.due)
		}
		if sum.sender != "juliet@localhost/balcony" {
			t.Errorf("step %d: sender = %q", i, sum.sender)
		}
		if sum.body != "" {
			t.Errorf("step %d: body %q included although include_body is off", i, sum.body)
		}
	}
	m.reset(account)
	if sum, due := m.record(account, msg, regs); sum.count != 1 || len(due) != 2 {
		t.Errorf("after reset: count %d, %d due; want 1, 2", sum.count, len(due))
	}
	m.includeBody = true
	if sum, _ := m.record(account, msg, regs); sum.body != "secret words" {
		t.Errorf("body = %q with include_body on", sum.body)
	}
}

func TestNotificationElement(t *testing.T) {
	reg, err := parseEnable(element(t, "<enable xmlns='urn:xmpp:push:0' jid='push.example' node='n1'>"+optionsForm+"</enable>"))
	if err != nil {
		t.Fatal(err)
	}
	el := element(t, notification(reg, summary{count: 3, sender: "juliet@localhost/balcony"}).String())
	publish := el.Child(nsPubSub, "publish")
	if publish.AttrValue("node") != "n1" {
		t.Errorf("publish node = %q", publish.AttrValue("node"))
	}
	form := publish.Child(nsPubSub, "item").Child(NS, "notification").Child(nsData, "x")
	fields := map[string]string{}
	for _, f := range form.ChildrenNamed(nsData, "field") {
		fields[f.AttrValue("var")] = f.Child(nsData, "value").Text()
	}
	want := map[string]string{"FORM_TYPE": formSummary, "message-count": "3", "last-message-sender": "juliet@localhost/balcony"}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, fields[k], v)
		}
	}
	if _, ok := fields["last-message-body"]; ok {
		t.Error("last-message-body present for an empty body")
	}
	opts := el.Child(nsPubSub, "publish-options").Child(nsData, "x")
	if formType(opts) != formPublishOptions {
		t.Errorf("publish-options = %v", opts)
	}
}

func TestDisables(t *testing.T) {
	cases := []struct {
		err  *stanza.Error
		want bool
	}{
		{stanza.ItemNotFound, true},
		{stanza.ServiceUnavailable, true},
		{stanza.NotAllowed, true},
		{stanza.RemoteServerNotFound, false},
		{stanza.RemoteServerTimeout, false},
		{stanza.ResourceConstraint, false},
		{stanza.NotAuthorized, false},
		{stanza.BadRequest, false},
		{nil, false},
	}
	for _, tc := range cases {
		if got := disables(tc.err); got != tc.want {
			t.Errorf("disables(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	kv := newMemKV()
	r := &registry{kv: kv}
	o := storage.Owner{Domain: "localhost", Local: "romeo"}
	svc := jid.MustParse("push.example")
	other := jid.MustParse("other.example")
	for _, reg := range []registration{{Service: svc, Node: "a"}, {Service: svc, Node: "b"}, {Service: other, Node: "a"}} {
		if err := r.put(ctx, o, reg); err != nil {
			t.Fatal(err)
		}
	}
	opts, _ := publishOptions(element(t, optionsForm))
	if err := r.put(ctx, o, registration{Service: svc, Node: "a", Options: opts}); err != nil {
		t.Fatal(err)
	}
	regs, err := r.list(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 3 {
		t.Fatalf("%d registrations, want 3", len(regs))
	}
	if regs[0].Node != "a" || regs[0].Options == nil {
		t.Errorf("enabling again did not replace the options: %+v", regs[0])
	}
	if _, err := kv.GetValue(ctx, o, "push:push.example:a"); err != nil {
		t.Errorf("registration key: %v", err)
	}

	if n, err := r.remove(ctx, o, svc, "b"); n != 1 || err != nil {
		t.Errorf("remove node b = %d, %v", n, err)
	}
	if n, err := r.remove(ctx, o, svc, ""); n != 1 || err != nil {
		t.Errorf("remove service = %d, %v", n, err)
	}
	if n, err := r.remove(ctx, o, svc, ""); n != 0 || err != nil {
		t.Errorf("remove again = %d, %v", n, err)
	}
	regs, _ = r.list(ctx, o)
	if len(regs) != 1 || !regs[0].Service.Equal(other) {
		t.Errorf("left %+v, want only other.example", regs)
	}
	if _, err := kv.GetValue(ctx, o, "push:push.example:a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("removed registration still stored: %v", err)
	}
	r.remove(ctx, o, other, "")
	if _, err := kv.GetValue(ctx, o, indexKey); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("empty index still stored: %v", err)
	}
}

func TestRegistryLimit(t *testing.T) {
	ctx := context.Background()
	r := &registry{kv: newMemKV()}
	o := storage.Owner{Domain: "localhost", Local: "romeo"}
	svc := jid.MustParse("push.example")
	for i := range MaxRegistrations {
		if err := r.put(ctx, o, registration{Service: svc, Node: string(rune('a' + i))}); err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	if err := r.put(ctx, o, registration{Service: svc, Node: "over"}); condition(err) != "not-allowed" {
		t.Errorf("registration over the limit: %v", err)
	}
	if err := r.put(ctx, o, registration{Service: svc, Node: "a"}); err != nil {
		t.Errorf("enabling a known node again at the limit: %v", err)
	}
}
