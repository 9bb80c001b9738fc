package sasl

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"testing"
)

// TestChannelBindingRules covers the GS2 channel binding flag and the c=
// attribute (RFC 5802 §6, RFC 5056, RFC 9266), including the downgrade
// cases: a stripped -PLUS offer, tls-unique, and binding data taken from
// another TLS connection.
func TestChannelBindingRules(t *testing.T) {
	conn := newTLS(t, tls.VersionTLS13)
	other := newTLS(t, tls.VersionTLS13)
	conn12 := newTLS(t, tls.VersionTLS12)
	otherCert := sha256.Sum256(other.cert.Raw)

	type server int
	const (
		plainStream server = iota // no TLS
		tls13                     // conn, with its certificate
		tls13NoCert               // conn, certificate unknown to the server
		tls12                     // conn12, with its certificate
	)
	tests := []struct {
		name      string
		server    server
		mech      string
		flag      string
		cbData    []byte
		cbHeader  string // GS2 header inside c=, if not the one sent
		condition string // "" for success
	}{
		{name: "y with PLUS offered", server: tls13, mech: ScramSHA256, flag: "y", condition: NotAuthorized},
		{name: "y with PLUS offered over TLS 1.2", server: tls12, mech: ScramSHA1, flag: "y", condition: NotAuthorized},
		{name: "tls-unique on TLS 1.3", server: tls13, mech: ScramSHA256Plus, flag: "p=tls-unique", cbData: conn.client.TLSUnique, condition: NotAuthorized},
		{name: "tls-unique on TLS 1.2", server: tls12, mech: ScramSHA256Plus, flag: "p=tls-unique", cbData: conn12.client.TLSUnique, condition: NotAuthorized},
		{name: "exporter of another connection", server: tls13, mech: ScramSHA256Plus, flag: "p=tls-exporter", cbData: other.exporter(t), condition: NotAuthorized},
		{name: "end-point of another certificate", server: tls13, mech: ScramSHA256Plus, flag: "p=tls-server-end-point", cbData: otherCert[:], condition: NotAuthorized},
		{name: "exporter correct", server: tls13, mech: ScramSHA256Plus, flag: "p=tls-exporter", cbData: conn.exporter(t)},
		{name: "end-point correct", server: tls13, mech: ScramSHA512Plus, flag: "p=tls-server-end-point", cbData: conn.endPoint()},
		{name: "exporter correct over TLS 1.2", server: tls12, mech: ScramSHA1Plus, flag: "p=tls-exporter", cbData: conn12.exporter(t)},
		{name: "y without TLS", server: plainStream, mech: ScramSHA256, flag: "y"},
		{name: "n with PLUS offered", server: tls13, mech: ScramSHA256, flag: "n"},
		{name: "end-point without server certificate", server: tls13NoCert, mech: ScramSHA256Plus, flag: "p=tls-server-end-point", cbData: conn.endPoint(), condition: NotAuthorized},
		{name: "exporter without server certificate", server: tls13NoCert, mech: ScramSHA256Plus, flag: "p=tls-exporter", cbData: conn.exporter(t)},
		{name: "unknown type", server: tls13, mech: ScramSHA256Plus, flag: "p=tls-foo", condition: NotAuthorized},
		{name: "invalid type name", server: tls13, mech: ScramSHA256Plus, flag: "p=tls_exporter", condition: MalformedRequest},
		{name: "empty type name", server: tls13, mech: ScramSHA256Plus, flag: "p=", condition: MalformedRequest},
		{name: "PLUS with n", server: tls13, mech: ScramSHA256Plus, flag: "n", condition: MalformedRequest},
		{name: "PLUS with y", server: tls13, mech: ScramSHA256Plus, flag: "y", condition: MalformedRequest},
		{name: "p with non-PLUS", server: tls13, mech: ScramSHA256, flag: "p=tls-exporter", cbData: conn.exporter(t), condition: MalformedRequest},
		{name: "p with non-PLUS without TLS", server: plainStream, mech: ScramSHA256, flag: "p=tls-exporter", condition: MalformedRequest},
		{name: "c= claims n after y", server: plainStream, mech: ScramSHA256, flag: "y", cbHeader: "n,,", condition: NotAuthorized},
		{name: "c= claims n after p", server: tls13, mech: ScramSHA256Plus, flag: "p=tls-exporter", cbHeader: "n,,", condition: NotAuthorized},
		{name: "c= names another type", server: tls13, mech: ScramSHA256Plus, flag: "p=tls-exporter", cbData: conn.exporter(t), cbHeader: "p=tls-server-end-point,,", condition: NotAuthorized},
		{name: "c= without binding data", server: tls13, mech: ScramSHA256Plus, flag: "p=tls-exporter", condition: NotAuthorized},
		{name: "c= with data but flag n", server: tls13, mech: ScramSHA256, flag: "n", cbData: conn.exporter(t), condition: NotAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg Config
			switch tt.server {
			case plainStream:
				cfg = testConfig(nil, nil)
			case tls13:
				cfg = testConfig(&conn.server, conn.cert)
			case tls13NoCert:
				cfg = testConfig(&conn.server, nil)
			case tls12:
				cfg = testConfig(&conn12.server, conn12.cert)
			}
			c := newClient(tt.mech, "alice", testPassword)
			c.flag, c.cbData, c.cbHeader = tt.flag, tt.cbData, tt.cbHeader
			ex, err := runSCRAM(t, cfg, tt.mech, c)
			if errors.Is(err, errServerSignature) {
				t.Fatal(err)
			}
			wantCondition(t, err, tt.condition)
			if tt.condition == "" && ex.Username() != "alice" {
				t.Errorf("Username() = %q, want alice", ex.Username())
			}
		})
	}
}
