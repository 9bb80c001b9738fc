package register

import (
	"context"
	"errors"
	"testing"

	"tern/config"
	"tern/router"
	"tern/stanza"
)

// The c2s layer refuses every element before TLS when TLS is required, so
// only a direct call reaches this check.
func TestPreAuthRequiresTLS(t *testing.T) {
	s := &service{tlsRequired: true, reg: config.Registration{Enabled: true}}
	iq := &stanza.Stanza{Name: stanza.IQ, Type: "get", ID: "g1"}
	_, err := s.handlePreAuth(context.Background(), router.ConnInfo{RemoteIP: "192.0.2.1", Domain: "localhost"}, iq, stanza.NewElement(NS, "query"))
	var se *stanza.Error
	if !errors.As(err, &se) || se.Condition != "not-authorized" {
		t.Errorf("error = %v, want not-authorized", err)
	}
}
