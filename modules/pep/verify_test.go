package pep

import (
	"encoding/base64"
	"testing"

	"tern/stanza"
)

// simpleInfo is the disco#info of XEP-0115 §5.2 (Exodus 0.9.1).
const simpleInfo = `<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity category='client' name='Exodus 0.9.1' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
</query>`

// complexInfo is the disco#info of XEP-0115 §5.3 (Psi 0.11), with two
// identities that differ in xml:lang and an extended information form.
const complexInfo = `<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
    <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>
    <field var='os'><value>Mac</value></field>
    <field var='os_version'><value>10.5.1</value></field>
    <field var='software'><value>Psi</value></field>
    <field var='software_version'><value>0.11</value></field>
  </x>
</query>`

func TestVerifyCaps(t *testing.T) {
	cases := []struct {
		name, info, hash, ver string
		want                  bool
	}{
		{"simple example", simpleInfo, "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0=", true},
		{"complex example", complexInfo, "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8w=", true},
		{"wrong ver", simpleInfo, "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8w=", false},
		{"unknown hash", simpleInfo, "md5", "QgayPKawpkPSDYmwT/WM94uAlu0=", false},
		{"sha-256 ver under sha-1", simpleInfo, "sha-256", "QgayPKawpkPSDYmwT/WM94uAlu0=", false},
		{
			"repeated feature",
			`<query xmlns='http://jabber.org/protocol/disco#info'><feature var='a'/><feature var='a'/></query>`,
			"sha-1", verOf("a<a<"), false,
		},
		{
			"repeated identity",
			`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='c' type='t'/><identity category='c' type='t'/></query>`,
			"sha-1", verOf("c/t//<c/t//<"), false,
		},
		{
			"form without hidden FORM_TYPE is ignored",
			`<query xmlns='http://jabber.org/protocol/disco#info'><feature var='a'/>` +
				`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'><value>urn:x</value></field>` +
				`<field var='f'><value>v</value></field></x></query>`,
			"sha-1", verOf("a<"), true,
		},
		{
			"two forms with one FORM_TYPE",
			`<query xmlns='http://jabber.org/protocol/disco#info'>` +
				`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:x</value></field></x>` +
				`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:x</value></field></x></query>`,
			"sha-1", verOf("urn:x<urn:x<"), false,
		},
		{
			"FORM_TYPE with two values",
			`<query xmlns='http://jabber.org/protocol/disco#info'>` +
				`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:x</value><value>urn:y</value></field></x></query>`,
			"sha-1", verOf("urn:x<"), false,
		},
		{
			// Sorting by var puts "ip" before "ip2"; sorting the joined
			// strings would not, because '2' sorts before '<'.
			"fields sorted by var",
			`<query xmlns='http://jabber.org/protocol/disco#info'>` +
				`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:x</value></field>` +
				`<field var='ip2'><value>b</value></field><field var='ip'><value>a</value></field></x></query>`,
			"sha-1", verOf("urn:x<ip<a<ip2<b<"), true,
		},
	}
	for _, tc := range cases {
		q, err := stanza.ParseElement([]byte(tc.info), "")
		if err != nil {
			t.Fatalf("%s: parse: %v", tc.name, err)
		}
		if got := verifyCaps(q, tc.hash, tc.ver); got != tc.want {
			s, ok := capsVerString(q)
			t.Errorf("%s: verifyCaps = %v, want %v (S = %q, well-formed %v)", tc.name, got, tc.want, s, ok)
		}
	}
}

// verOf returns the SHA-1 ver of a verification string.
func verOf(s string) string {
	h := capsHashes["sha-1"]()
	h.Write([]byte(s))
	return b64(h.Sum(nil))
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
