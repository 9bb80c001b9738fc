package config

import (
	"crypto/tls"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestDefaultValues(t *testing.T) {
	c := Default()
	cases := []struct {
		key  string
		got  any
		want any
	}{
		{"server.domains", c.Server.Domains, []string{"localhost"}},
		{"server.data_dir", c.Server.DataDir, "./data"},
		{"server.admins", c.Server.Admins, []string(nil)},
		{"server.log_level", c.Server.LogLevel, "info"},
		{"server.log_format", c.Server.LogFormat, "text"},
		{"server.shutdown_timeout", c.Server.ShutdownTimeout, 10 * time.Second},
		{"storage.backend", c.Storage.Backend, "sqlite"},
		{"storage.sqlite_file", c.Storage.SQLiteFile, "tern.db"},
		{"storage.postgres_dsn", c.Storage.PostgresDSN, ""},
		{"tls.required", c.TLS.Required, true},
		{"tls.min_version", c.TLS.MinVersion, "1.2"},
		{"tls.certificate", c.TLS.Certificates, []Certificate(nil)},
		{"c2s.listen", c.C2S.Listen, []string{":5222"}},
		{"c2s.direct_tls_listen", c.C2S.DirectTLSListen, []string{":5223"}},
		{"c2s.max_stanza_size", c.C2S.MaxStanzaSize, ByteSize(262144)},
		{"c2s.max_stanza_size_before_auth", c.C2S.MaxStanzaSizeBeforeAuth, ByteSize(16384)},
		{"c2s.max_element_depth", c.C2S.MaxElementDepth, 64},
		{"c2s.auth_timeout", c.C2S.AuthTimeout, 60 * time.Second},
		{"c2s.keepalive_interval", c.C2S.KeepaliveInterval, 60 * time.Second},
		{"c2s.ping_timeout", c.C2S.PingTimeout, 30 * time.Second},
		{"c2s.send_queue", c.C2S.SendQueue, 1000},
		{"c2s.resume_timeout", c.C2S.ResumeTimeout, time.Hour},
		{"c2s.max_unacked", c.C2S.MaxUnacked, 500},
		{"auth.scram_iterations", c.Auth.SCRAMIterations, 4096},
		{"auth.scram_hashes", c.Auth.SCRAMHashes, []string{"SHA-1", "SHA-256", "SHA-512"}},
		{"auth.allow_plain", c.Auth.AllowPlain, true},
		{"auth.max_failures_per_ip", c.Auth.MaxFailuresPerIP, 5},
		{"auth.max_failures_per_account", c.Auth.MaxFailuresPerAccount, 10},
		{"auth.failure_window", c.Auth.FailureWindow, 5 * time.Minute},
		{"registration.enabled", c.Registration.Enabled, false},
		{"registration.min_password_length", c.Registration.MinPasswordLength, 8},
		{"registration.rate_per_ip", c.Registration.RatePerIP, 1},
		{"registration.rate_window", c.Registration.RateWindow, 10 * time.Minute},
		{"offline.max_messages", c.Offline.MaxMessages, 1000},
		{"multicast.max_addresses", c.Multicast.MaxAddresses, 100},
		{"archive.enabled", c.Archive.Enabled, true},
		{"archive.retention", c.Archive.Retention, time.Duration(0)},
		{"archive.default_mode", c.Archive.DefaultMode, "always"},
		{"archive.max_page", c.Archive.MaxPage, 250},
		{"s2s.enabled", c.S2S.Enabled, true},
		{"s2s.listen", c.S2S.Listen, []string{":5269"}},
		{"s2s.direct_tls_listen", c.S2S.DirectTLSListen, []string(nil)},
		{"s2s.dialback", c.S2S.Dialback, true},
		{"component.listen", c.Component.Listen, "127.0.0.1:5347"},
		{"component.service", c.Component.Services, []ComponentService(nil)},
		{"http.listen", c.HTTP.Listen, "127.0.0.1:5280"},
		{"http.admin_token", c.HTTP.AdminToken, ""},
		{"http.websocket_allowed_origins", c.HTTP.WebSocketAllowedOrigins, []string(nil)},
		{"muc.service", c.MUC.Service, "conference.{domain}"},
		{"muc.create", c.MUC.Create, "local"},
		{"muc.max_occupants", c.MUC.MaxOccupants, 200},
		{"muc.max_rooms_per_user", c.MUC.MaxRoomsPerUser, 10},
		{"muc.max_messages_per_second", c.MUC.MaxMessagesPerSecond, 5},
		{"muc.history_length", c.MUC.HistoryLength, 20},
		{"push.include_body", c.Push.IncludeBody, false},
		{"push.min_interval", c.Push.MinInterval, 5 * time.Second},
		{"upload.enabled", c.Upload.Enabled, true},
		{"upload.service", c.Upload.Service, "upload.{domain}"},
		{"upload.max_file_size", c.Upload.MaxFileSize, 100 * MiB},
		{"upload.directory", c.Upload.Directory, "uploads"},
		{"upload.expiry", c.Upload.Expiry, 720 * time.Hour},
		{"upload.quota_per_user", c.Upload.QuotaPerUser, ByteSize(0)},
		{"upload.public_url", c.Upload.PublicURL, ""},
		{"modules.disabled", c.Modules.Disabled, []string(nil)},
		{"external_service", c.ExternalServices, []ExternalService(nil)},
	}
	for _, tc := range cases {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.key, tc.got, tc.want)
		}
	}
	if n := len(schemaLeafKeys(reflect.TypeOf(*c), "", false)); n != len(cases) {
		t.Errorf("schema has %d keys, this test checks %d", n, len(cases))
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestDefaultReturnsNewValue(t *testing.T) {
	a := Default()
	a.Server.Domains[0] = "changed.example"
	a.C2S.Listen[0] = ":1"
	b := Default()
	if b.Server.Domains[0] != "localhost" || b.C2S.Listen[0] != ":5222" {
		t.Errorf("Default shares slices between calls: %v %v", b.Server.Domains, b.C2S.Listen)
	}
}

func TestPath(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "x")
	c := Default()
	c.Server.DataDir = "/var/lib/tern"
	cases := []struct{ rel, want string }{
		{"tern.db", "/var/lib/tern/tern.db"},
		{"certs/a.pem", "/var/lib/tern/certs/a.pem"},
		{"../etc/a.pem", "/var/lib/etc/a.pem"},
		{"", "/var/lib/tern"},
		{abs, abs},
		{abs + "/../y", filepath.Join(filepath.Dir(abs), "y")},
	}
	for _, tc := range cases {
		if got := c.Path(tc.rel); got != tc.want {
			t.Errorf("Path(%q) = %q, want %q", tc.rel, got, tc.want)
		}
	}
	c.Server.DataDir = "./data"
	if got := c.Path("tern.db"); got != "data/tern.db" {
		t.Errorf("Path with relative data_dir = %q, want data/tern.db", got)
	}
}

func TestTLSDomains(t *testing.T) {
	c := Default()
	c.Server.Domains = []string{"a.example", "b.example"}
	c.Component.Services = []ComponentService{{Domain: "muc.a.example", Secret: "s"}}
	want := []string{"a.example", "b.example", "muc.a.example"}
	if got := c.TLSDomains(); !reflect.DeepEqual(got, want) {
		t.Errorf("TLSDomains() = %v, want %v", got, want)
	}
	if c.Server.Domains[0] != "a.example" || len(c.Server.Domains) != 2 {
		t.Errorf("TLSDomains changed server.domains: %v", c.Server.Domains)
	}
}

func TestMinTLSVersion(t *testing.T) {
	cases := map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}
	for in, want := range cases {
		if got := (TLS{MinVersion: in}).MinTLSVersion(); got != want {
			t.Errorf("MinTLSVersion(%q) = %x, want %x", in, got, want)
		}
	}
}

func TestSlogLevel(t *testing.T) {
	cases := map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo,
		"warn": slog.LevelWarn, "error": slog.LevelError,
	}
	for in, want := range cases {
		if got := (Server{LogLevel: in}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestModulesEnabled(t *testing.T) {
	m := Modules{Disabled: []string{"vcard", "last"}}
	if m.Enabled("vcard") || m.Enabled("last") {
		t.Error("a disabled module reports enabled")
	}
	if !m.Enabled("roster") {
		t.Error("roster reports disabled")
	}
}

func TestRegisterModuleName(t *testing.T) {
	t.Cleanup(func() { delete(KnownModules, "testmodule") })
	c := Default()
	c.Modules.Disabled = []string{"testmodule"}
	if c.Validate() == nil {
		t.Fatal("unregistered module accepted")
	}
	RegisterModuleName("testmodule")
	if err := c.Validate(); err != nil {
		t.Fatalf("registered module rejected: %v", err)
	}
}

func TestRegisterModuleNameEmptyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("RegisterModuleName(\"\") did not panic")
		}
	}()
	RegisterModuleName("")
}

// schemaLeafKeys lists the dotted keys of every leaf and array of tables in
// t. With inArrays it also lists the keys inside arrays of tables, without
// an index ("tls.certificate.domain").
func schemaLeafKeys(t reflect.Type, prefix string, inArrays bool) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		key := joinKey(prefix, f.Tag.Get("toml"))
		switch {
		case f.Type.Kind() == reflect.Struct:
			keys = append(keys, schemaLeafKeys(f.Type, key, inArrays)...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			keys = append(keys, key)
			if inArrays {
				keys = append(keys, schemaLeafKeys(f.Type.Elem(), key, true)...)
			}
		default:
			keys = append(keys, key)
		}
	}
	return keys
}
