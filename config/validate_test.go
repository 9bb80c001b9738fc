package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateRules(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		key    string // "" when the change is valid
		msg    string
	}{
		// [server]
		{"no domains", func(c *Config) { c.Server.Domains = nil }, "server.domains", "at least one domain is required"},
		{"domain with space", func(c *Config) { c.Server.Domains = []string{"a b.example"} }, "server.domains[0]", `"a b.example" is not a valid domain`},
		{"domain empty label", func(c *Config) { c.Server.Domains = []string{"a..example"} }, "server.domains[0]", "empty label"},
		{"domain empty", func(c *Config) { c.Server.Domains = []string{""} }, "server.domains[0]", `"" is not a valid domain`},
		{"domain is JID", func(c *Config) { c.Server.Domains = []string{"u@a.example"} }, "server.domains[0]", "is a JID, not a domain"},
		{"domain with resource", func(c *Config) { c.Server.Domains = []string{"a.example/r"} }, "server.domains[0]", "is a JID, not a domain"},
		{"domain duplicate", func(c *Config) { c.Server.Domains = []string{"a.example", "A.Example."} }, "server.domains[1]", `"A.Example." is the same domain as "a.example"`},
		{"domain IP", func(c *Config) { c.Server.Domains = []string{"127.0.0.1"} }, "", ""},
		{"domain IDN", func(c *Config) { c.Server.Domains = []string{"xn--bcher-kva.example"} }, "", ""},
		{"data_dir empty", func(c *Config) { c.Server.DataDir = "" }, "server.data_dir", "must not be empty"},
		{"admin domain only", func(c *Config) { c.Server.Admins = []string{"a.example"} }, "server.admins[0]", "is not an account JID (use user@domain)"},
		{"admin resource", func(c *Config) { c.Server.Admins = []string{"u@a.example/phone"} }, "server.admins[0]", "has a resource (use the bare JID u@a.example)"},
		{"admin invalid", func(c *Config) { c.Server.Admins = []string{"u@"} }, "server.admins[0]", "is not a valid JID"},
		{"admin valid", func(c *Config) { c.Server.Admins = []string{"u@a.example"} }, "", ""},
		{"log_level", func(c *Config) { c.Server.LogLevel = "trace" }, "server.log_level", `"trace" is not one of "debug", "info", "warn", "error"`},
		{"log_format", func(c *Config) { c.Server.LogFormat = "xml" }, "server.log_format", `"xml" is not one of "text", "json"`},
		{"shutdown_timeout zero", func(c *Config) { c.Server.ShutdownTimeout = 0 }, "server.shutdown_timeout", `"0s" must be longer than zero`},
		// [storage]
		{"backend", func(c *Config) { c.Storage.Backend = "mysql" }, "storage.backend", `"mysql" is not one of "sqlite", "postgres"`},
		{"sqlite_file empty", func(c *Config) { c.Storage.SQLiteFile = "" }, "storage.sqlite_file", `required when storage.backend is "sqlite"`},
		{"postgres without dsn", func(c *Config) { c.Storage.Backend = "postgres" }, "storage.postgres_dsn", `required when storage.backend is "postgres"`},
		{"postgres with dsn", func(c *Config) { c.Storage.Backend = "postgres"; c.Storage.PostgresDSN = "postgres://x@localhost/t" }, "", ""},
		{"postgres ignores sqlite_file", func(c *Config) {
			c.Storage.Backend, c.Storage.PostgresDSN, c.Storage.SQLiteFile = "postgres", "postgres://x", ""
		}, "", ""},
		// [tls]
		{"min_version", func(c *Config) { c.TLS.MinVersion = "1.1" }, "tls.min_version", `"1.1" is not one of "1.2", "1.3"`},
		{"min_version 1.3", func(c *Config) { c.TLS.MinVersion = "1.3" }, "", ""},
		// [c2s]
		{"listen no port", func(c *Config) { c.C2S.Listen = []string{"localhost"} }, "c2s.listen[0]", `"localhost" is not a listen address`},
		{"listen bad port", func(c *Config) { c.C2S.Listen = []string{":70000"} }, "c2s.listen[0]", "no valid port number"},
		{"listen service name", func(c *Config) { c.C2S.Listen = []string{":xmpp"} }, "c2s.listen[0]", "no valid port number"},
		{"listen IPv6 no brackets", func(c *Config) { c.C2S.Listen = []string{"::1:5222"} }, "c2s.listen[0]", "is not a listen address"},
		{"listen IPv6", func(c *Config) { c.C2S.Listen = []string{"[::1]:5222"} }, "", ""},
		{"direct_tls_listen", func(c *Config) { c.C2S.DirectTLSListen = []string{"x"} }, "c2s.direct_tls_listen[0]", "is not a listen address"},
		{"listeners disabled", func(c *Config) { c.C2S.Listen, c.C2S.DirectTLSListen = nil, nil }, "", ""},
		{"max_stanza_size small", func(c *Config) { c.C2S.MaxStanzaSize, c.C2S.MaxStanzaSizeBeforeAuth = 9999, 4096 }, "c2s.max_stanza_size", "9999 is less than 10000 bytes"},
		{"max_stanza_size minimum", func(c *Config) { c.C2S.MaxStanzaSize, c.C2S.MaxStanzaSizeBeforeAuth = 10000, 4096 }, "", ""},
		{"before_auth small", func(c *Config) { c.C2S.MaxStanzaSizeBeforeAuth = 1023 }, "c2s.max_stanza_size_before_auth", "1023 is less than 1024 bytes"},
		{"before_auth above max", func(c *Config) { c.C2S.MaxStanzaSizeBeforeAuth = c.C2S.MaxStanzaSize + 1 }, "c2s.max_stanza_size_before_auth", "is more than c2s.max_stanza_size (262144)"},
		{"max_element_depth", func(c *Config) { c.C2S.MaxElementDepth = 7 }, "c2s.max_element_depth", "7 is less than 8"},
		{"auth_timeout", func(c *Config) { c.C2S.AuthTimeout = -time.Second }, "c2s.auth_timeout", `"-1s" must be longer than zero`},
		{"keepalive negative", func(c *Config) { c.C2S.KeepaliveInterval = -time.Second }, "c2s.keepalive_interval", "must not be negative"},
		{"keepalive disabled", func(c *Config) { c.C2S.KeepaliveInterval = 0 }, "", ""},
		{"ping_timeout", func(c *Config) { c.C2S.PingTimeout = 0 }, "c2s.ping_timeout", "must be longer than zero"},
		{"send_queue", func(c *Config) { c.C2S.SendQueue = 0 }, "c2s.send_queue", "0 is less than 1"},
		// [auth]
		{"scram_iterations", func(c *Config) { c.Auth.SCRAMIterations = 0 }, "auth.scram_iterations", "0 is less than 1"},
		{"scram_hashes empty", func(c *Config) { c.Auth.SCRAMHashes = nil }, "auth.scram_hashes",
			`at least one hash family is required (choose from "SHA-1", "SHA-256", "SHA-512")`},
		{"scram_hashes lower case", func(c *Config) { c.Auth.SCRAMHashes = []string{"SHA-1", "sha-256"} }, "auth.scram_hashes[1]",
			`"sha-256" is not one of "SHA-1", "SHA-256", "SHA-512"`},
		{"scram_hashes unknown", func(c *Config) { c.Auth.SCRAMHashes = []string{"SHA3-256"} }, "auth.scram_hashes[0]", `"SHA3-256" is not one of`},
		{"scram_hashes twice", func(c *Config) { c.Auth.SCRAMHashes = []string{"SHA-256", "SHA-256"} }, "auth.scram_hashes[1]", `"SHA-256" is listed twice`},
		{"scram_hashes one", func(c *Config) { c.Auth.SCRAMHashes = []string{"SHA-512"} }, "", ""},
		{"scram_hashes reordered", func(c *Config) { c.Auth.SCRAMHashes = []string{"SHA-512", "SHA-1"} }, "", ""},
		{"failures per ip", func(c *Config) { c.Auth.MaxFailuresPerIP = -1 }, "auth.max_failures_per_ip", "-1 is less than 0"},
		{"failures per ip unlimited", func(c *Config) { c.Auth.MaxFailuresPerIP = 0 }, "", ""},
		{"failures per account", func(c *Config) { c.Auth.MaxFailuresPerAccount = -1 }, "auth.max_failures_per_account", "-1 is less than 0"},
		{"failure_window", func(c *Config) { c.Auth.FailureWindow = 0 }, "auth.failure_window", "must be longer than zero"},
		// [registration]
		{"min_password_length", func(c *Config) { c.Registration.MinPasswordLength = 0 }, "registration.min_password_length", "0 is less than 1"},
		{"rate_per_ip", func(c *Config) { c.Registration.RatePerIP = -1 }, "registration.rate_per_ip", "-1 is less than 0"},
		{"rate_window", func(c *Config) { c.Registration.RateWindow = 0 }, "registration.rate_window", "must be longer than zero"},
		// [offline]
		{"max_messages negative", func(c *Config) { c.Offline.MaxMessages = -1 }, "offline.max_messages", "-1 is less than 0"},
		{"offline disabled", func(c *Config) { c.Offline.MaxMessages = 0 }, "", ""},
		// [multicast]
		{"max_addresses zero", func(c *Config) { c.Multicast.MaxAddresses = 0 }, "multicast.max_addresses", "0 is less than 1"},
		{"max_addresses one", func(c *Config) { c.Multicast.MaxAddresses = 1 }, "", ""},
		// [archive]
		{"retention negative", func(c *Config) { c.Archive.Retention = -time.Hour }, "archive.retention", `"-1h0m0s" must not be negative`},
		{"retention 30 days", func(c *Config) { c.Archive.Retention = 720 * time.Hour }, "", ""},
		{"default_mode", func(c *Config) { c.Archive.DefaultMode = "sometimes" }, "archive.default_mode", `"sometimes" is not one of "always", "roster", "never"`},
		{"default_mode roster", func(c *Config) { c.Archive.DefaultMode = "roster" }, "", ""},
		{"max_page zero", func(c *Config) { c.Archive.MaxPage = 0 }, "archive.max_page", "0 is less than 1"},
		{"max_page above send_queue", func(c *Config) { c.Archive.MaxPage = 1001 }, "archive.max_page", "1001 is more than c2s.send_queue (1000)"},
		// [s2s]
		{"s2s listen", func(c *Config) { c.S2S.Listen = []string{"5269"} }, "s2s.listen[0]", "is not a listen address"},
		{"s2s direct_tls_listen", func(c *Config) { c.S2S.DirectTLSListen = []string{":-1"} }, "s2s.direct_tls_listen[0]", "no valid port number"},
		// [component]
		{"component listen", func(c *Config) { c.Component.Listen = "5347" }, "component.listen", "is not a listen address"},
		{"component disabled", func(c *Config) { c.Component.Listen = "" }, "", ""},
		{"service no secret", func(c *Config) { c.Component.Services = []ComponentService{{Domain: "c.example"}} }, "component.service[0].secret", "required"},
		{"service no domain", func(c *Config) { c.Component.Services = []ComponentService{{Secret: "s"}} }, "component.service[0].domain", "required"},
		{"service bad domain", func(c *Config) { c.Component.Services = []ComponentService{{Domain: "c@x", Secret: "s"}} }, "component.service[0].domain", "is a JID"},
		{"service is server domain", func(c *Config) { c.Component.Services = []ComponentService{{Domain: "LOCALHOST", Secret: "s"}} }, "component.service[0].domain", "is already a server domain"},
		{"service duplicate", func(c *Config) {
			c.Component.Services = []ComponentService{{Domain: "c.example", Secret: "s"}, {Domain: "c.example", Secret: "t"}}
		}, "component.service[1].domain", "is already a server domain or another component's domain"},
		// [http]
		{"http listen", func(c *Config) { c.HTTP.Listen = "localhost" }, "http.listen", "is not a listen address"},
		{"http disabled", func(c *Config) { c.HTTP.Listen = "" }, "", ""},
		{"admin_token short", func(c *Config) { c.HTTP.AdminToken = "123456789012345" }, "http.admin_token", "is 15 characters long; use at least 16"},
		{"admin_token ok", func(c *Config) { c.HTTP.AdminToken = "1234567890123456" }, "", ""},
		{"origin empty", func(c *Config) { c.HTTP.WebSocketAllowedOrigins = []string{""} }, "http.websocket_allowed_origins[0]", "must not be empty"},
		{"origin bad pattern", func(c *Config) { c.HTTP.WebSocketAllowedOrigins = []string{"[a"} }, "http.websocket_allowed_origins[0]", `"[a" is not a valid pattern`},
		{"origin patterns", func(c *Config) {
			c.HTTP.WebSocketAllowedOrigins = []string{"example.com", "*.example.com", "https://*.example.com"}
		}, "", ""},
		// [modules]
		{"unknown module", func(c *Config) { c.Modules.Disabled = []string{"rooster"} }, "modules.disabled[0]", `"rooster" is not a known module (known: disco, last,`},
		{"known module", func(c *Config) { c.Modules.Disabled = []string{"roster", "ping"} }, "", ""},
		// listeners shared
		{"same address twice", func(c *Config) { c.S2S.Listen = []string{":5222"} }, "s2s.listen[0]", `":5222" is already used by c2s.listen[0]`},
		{"http same as component", func(c *Config) { c.HTTP.Listen = c.Component.Listen }, "http.listen", "is already used by component.listen"},
		{"port zero shared", func(c *Config) {
			c.C2S.Listen, c.C2S.DirectTLSListen, c.S2S.Listen = []string{"127.0.0.1:0"}, []string{"127.0.0.1:0"}, []string{"127.0.0.1:0"}
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

func TestValidateNormalises(t *testing.T) {
	c := Default()
	c.Server.Domains = []string{"Example.COM.", "XN--BCHER-KVA.example"}
	c.Server.Admins = []string{"Alice@EXAMPLE.com"}
	c.Component.Services = []ComponentService{{Domain: "MUC.example.com", Secret: "s"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"domain", c.Server.Domains[0], "example.com"},
		{"A-label domain", c.Server.Domains[1], "bücher.example"},
		{"admin", c.Server.Admins[0], "alice@example.com"},
		{"component", c.Component.Services[0].Domain, "muc.example.com"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
}

func TestValidateCertificates(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.pem", "a.key"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	good := Certificate{Domain: "localhost", CertFile: "a.pem", KeyFile: "a.key"}
	cases := []struct {
		name  string
		certs []Certificate
		key   string
		msg   string
	}{
		{"valid", []Certificate{good}, "", ""},
		{"absolute paths", []Certificate{{"localhost", filepath.Join(dir, "a.pem"), filepath.Join(dir, "a.key")}}, "", ""},
		{"component domain", []Certificate{{"muc.localhost", "a.pem", "a.key"}}, "", ""},
		{"normalised domain", []Certificate{{"LocalHost", "a.pem", "a.key"}}, "", ""},
		{"no domain", []Certificate{{"", "a.pem", "a.key"}}, "tls.certificate[0].domain", "required"},
		{"bad domain", []Certificate{{"a b", "a.pem", "a.key"}}, "tls.certificate[0].domain", "is not a valid domain"},
		{"unserved domain", []Certificate{{"other.example", "a.pem", "a.key"}}, "tls.certificate[0].domain",
			`"other.example" is not in server.domains or a component.service domain`},
		{"duplicate", []Certificate{good, {"LOCALHOST", "a.pem", "a.key"}}, "tls.certificate[1].domain", "already has a certificate"},
		{"no cert_file", []Certificate{{"localhost", "", "a.key"}}, "tls.certificate[0].cert_file", "required"},
		{"missing cert_file", []Certificate{{"localhost", "b.pem", "a.key"}}, "tls.certificate[0].cert_file",
			`"b.pem" does not exist (looked for ` + filepath.Join(dir, "b.pem") + ")"},
		{"missing key_file", []Certificate{{"localhost", "a.pem", "b.key"}}, "tls.certificate[0].key_file", "does not exist"},
		{"directory", []Certificate{{"localhost", "sub", "a.key"}}, "tls.certificate[0].cert_file", `"sub" is a directory`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Server.DataDir = dir
			c.Component.Services = []ComponentService{{Domain: "muc.localhost", Secret: "s"}}
			c.TLS.Certificates = tc.certs
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
		})
	}
}

func TestErrorFormat(t *testing.T) {
	cases := []struct {
		err  Error
		want string
	}{
		{Error{File: "a.toml", Line: 3, Key: "c2s.send_queue", Message: "0 is less than 1"}, "a.toml:3: c2s.send_queue: 0 is less than 1"},
		{Error{File: "a.toml", Key: "x", Message: "unknown key"}, "a.toml: x: unknown key"},
		{Error{Line: 2, Message: "bad"}, "line 2: bad"},
		{Error{Key: "k", Message: "m"}, "k: m"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	errs := Errors{&cases[0].err, &cases[1].err}
	if got := errs.Error(); got != cases[0].want+"\n"+cases[1].want {
		t.Errorf("Errors.Error() = %q", got)
	}
	var target *Error
	if !errors.As(error(errs), &target) || target != &cases[0].err {
		t.Errorf("errors.As does not reach the first *Error")
	}
}
