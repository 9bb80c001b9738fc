package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidatePushAndExternalServices(t *testing.T) {
	turn := func(mod func(*ExternalService)) func(*Config) {
		return func(c *Config) {
			s := ExternalService{Type: "turn", Host: "turn.example.com", Secret: "s3cret"}
			mod(&s)
			c.ExternalServices = []ExternalService{s}
		}
	}
	cases := []struct {
		name   string
		change func(*Config)
		key    string // "" when the change is valid
		msg    string
	}{
		{"min_interval zero", func(c *Config) { c.Push.MinInterval = 0 }, "", ""},
		{"min_interval negative", func(c *Config) { c.Push.MinInterval = -time.Second }, "push.min_interval", `"-1s" must not be negative`},
		{"turn with secret", turn(func(*ExternalService) {}), "", ""},
		{"stun IP host", turn(func(s *ExternalService) { s.Type, s.Host, s.Secret = "stun", "192.0.2.1", "" }), "", ""},
		{"IPv6 host", turn(func(s *ExternalService) { s.Host = "2001:db8::1" }), "", ""},
		{"type missing", turn(func(s *ExternalService) { s.Type = "" }), "external_service[0].type", `"" is not one of "stun", "stuns", "turn", "turns"`},
		{"type unknown", turn(func(s *ExternalService) { s.Type = "ftp" }), "external_service[0].type", `"ftp" is not one of`},
		{"host missing", turn(func(s *ExternalService) { s.Host = "" }), "external_service[0].host", "required"},
		{"host invalid", turn(func(s *ExternalService) { s.Host = "turn example" }), "external_service[0].host", `"turn example" is not a valid domain`},
		{"host with port", turn(func(s *ExternalService) { s.Host = "turn.example.com:3478" }), "external_service[0].host", "is not a valid domain"},
		{"port too large", turn(func(s *ExternalService) { s.Port = 70000 }), "external_service[0].port", "70000 is not a port number"},
		{"port negative", turn(func(s *ExternalService) { s.Port = -1 }), "external_service[0].port", "-1 is not a port number"},
		{"transport", turn(func(s *ExternalService) { s.Transport = "sctp" }), "external_service[0].transport", `"sctp" is not one of "udp", "tcp"`},
		{"secret on stun", turn(func(s *ExternalService) { s.Type = "stun" }), "external_service[0].secret", `applies only to type "turn" or "turns"`},
		{"ttl negative", turn(func(s *ExternalService) { s.TTL = -time.Hour }), "external_service[0].ttl", `"-1h0m0s" must not be negative`},
		{"duplicate", func(c *Config) {
			c.ExternalServices = []ExternalService{
				{Type: "stun", Host: "stun.example.com"},
				{Type: "stun", Host: "STUN.example.com", Port: 3478, Transport: "udp"},
			}
		}, "external_service[1]", "lists the same service as external_service[0] (stun stun.example.com:3478/udp)"},
		{"same host other transport", func(c *Config) {
			c.ExternalServices = []ExternalService{
				{Type: "turn", Host: "turn.example.com"},
				{Type: "turn", Host: "turn.example.com", Transport: "tcp"},
			}
		}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(c)
			err := c.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Validate() = %v, want Errors", err)
			}
			e := findError(errs, tc.key)
			if e == nil {
				t.Fatalf("no error for %s in:\n%v", tc.key, errs)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
			if len(errs) != 1 {
				t.Errorf("got %d errors, want 1:\n%v", len(errs), errs)
			}
		})
	}
}

func TestExternalServiceDefaults(t *testing.T) {
	cases := []struct {
		in        ExternalService
		port      int
		transport string
		ttl       time.Duration
	}{
		{ExternalService{Type: "stun", Host: "a.example"}, 3478, "udp", DefaultCredentialTTL},
		{ExternalService{Type: "turn", Host: "a.example"}, 3478, "udp", DefaultCredentialTTL},
		{ExternalService{Type: "stuns", Host: "a.example"}, 5349, "tcp", DefaultCredentialTTL},
		{ExternalService{Type: "turns", Host: "a.example"}, 5349, "tcp", DefaultCredentialTTL},
		{ExternalService{Type: "turn", Host: "a.example", Port: 443, Transport: "tcp", TTL: time.Hour}, 443, "tcp", time.Hour},
	}
	for i, tc := range cases {
		c := Default()
		c.ExternalServices = []ExternalService{tc.in}
		if err := c.Validate(); err != nil {
			t.Fatalf("case %d: Validate() = %v", i, err)
		}
		got := c.ExternalServices[0]
		if got.Port != tc.port {
			t.Errorf("case %d: port = %d, want %d", i, got.Port, tc.port)
		}
		if got.Transport != tc.transport {
			t.Errorf("case %d: transport = %q, want %q", i, got.Transport, tc.transport)
		}
		if got.TTL != tc.ttl {
			t.Errorf("case %d: ttl = %v, want %v", i, got.TTL, tc.ttl)
		}
	}
}

func TestExternalServiceHostNormalised(t *testing.T) {
	c := Default()
	c.ExternalServices = []ExternalService{{Type: "stun", Host: "STUN.Example.COM."}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.ExternalServices[0].Host; got != "stun.example.com" {
		t.Errorf("host = %q, want stun.example.com", got)
	}
}

func TestExternalServiceSecretHidden(t *testing.T) {
	_, err := load("test.toml", "[[external_service]]\ntype = \"turn\"\nhost = \"t.example\"\nsecret = 12345678")
	if err == nil {
		t.Fatal("load succeeded with a secret that is not a string")
	}
	if strings.Contains(err.Error(), "12345678") {
		t.Errorf("error text contains the secret: %v", err)
	}
}

func TestExternalServiceFromFile(t *testing.T) {
	c, err := load("test.toml", `
[[external_service]]
type = "stun"
host = "turn.example.com"

[[external_service]]
type = "turns"
host = "turn.example.com"
secret = "s3cret"
ttl = "1h"
`)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.ExternalServices); n != 2 {
		t.Fatalf("%d services, want 2", n)
	}
	got := c.ExternalServices[1]
	want := ExternalService{Type: "turns", Host: "turn.example.com", Port: 5349, Transport: "tcp", Secret: "s3cret", TTL: time.Hour}
	if got != want {
		t.Errorf("service = %+v, want %+v", got, want)
	}
}
