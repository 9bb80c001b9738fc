package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig writes text to a config file in a new temporary directory and
// returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadErrors loads text and returns the errors, failing the test if Load
// succeeds or returns something other than Errors.
func loadErrors(t *testing.T, text string) Errors {
	t.Helper()
	cfg, err := Load(writeConfig(t, text))
	if err == nil {
		t.Fatalf("Load succeeded, want an error")
	}
	if cfg != nil {
		t.Errorf("Load returned a Config with an error")
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error %T is not Errors: %v", err, err)
	}
	return errs
}

func findError(errs Errors, key string) *Error {
	for _, e := range errs {
		if e.Key == key {
			return e
		}
	}
	return nil
}

func TestLoadBadValues(t *testing.T) {
	cases := []struct {
		name, text, key, msg string
		line                 int
	}{
		{"size unit", "[c2s]\nmax_stanza_size = \"12x\"", "c2s.max_stanza_size",
			`"12x" is not a size (use bytes or a unit: 256KiB, 1MiB)`, 2},
		{"size decimal unit", "[c2s]\nmax_stanza_size = \"1MB\"", "c2s.max_stanza_size", `"1MB" is not a size`, 2},
		{"size bool", "[c2s]\nmax_stanza_size = true", "c2s.max_stanza_size", "true is not a size", 2},
		{"duration integer", "[server]\nshutdown_timeout = 10", "server.shutdown_timeout", "10 is not a duration", 2},
		{"duration no unit", "[c2s]\nauth_timeout = \"60\"", "c2s.auth_timeout", `"60" is not a duration`, 2},
		{"string number", "[server]\nlog_level = 3", "server.log_level", "3 is not a string", 2},
		{"bool string", "[tls]\nrequired = \"yes\"", "tls.required", `"yes" is not a boolean (use true or false)`, 2},
		{"int float", "[c2s]\nsend_queue = 1.5", "c2s.send_queue", "1.5 is not an integer", 2},
		{"int string", "[offline]\nmax_messages = \"10\"", "offline.max_messages", `"10" is not an integer`, 2},
		{"list scalar", "[server]\ndomains = \"a.example\"", "server.domains", `"a.example" is not a list (write ["a.example"])`, 2},
		{"list mixed", "[server]\n\ndomains = [\"a.example\", 5]", "server.domains", `["a.example", 5] is not a list of strings`, 3},
		{"table scalar", "c2s = 5", "c2s", "5 is not a table", 1},
		{"dotted key", "c2s.send_queue = \"x\"", "c2s.send_queue", `"x" is not an integer`, 1},
		{"array of tables scalar", "[tls]\ncertificate = \"x\"", "tls.certificate",
			`"x" is not a list of tables (use [[tls.certificate]])`, 2},
		{"secret hidden", "[http]\nadmin_token = 1234567", "http.admin_token", "the value is not a string", 2},
		{"validation line", "\n\n[server]\nlog_level = \"verbose\"", "server.log_level",
			`"verbose" is not one of "debug", "info", "warn", "error"`, 4},
		{"element line", "[server]\ndomains = [\"a.example\", \"x y\"]", "server.domains[1]", `"x y" is not a valid domain`, 2},
		{"scram_hashes value", "[auth]\nscram_iterations = 4096\nscram_hashes = [\"SHA-256\", \"MD5\"]", "auth.scram_hashes[1]",
			`"MD5" is not one of "SHA-1", "SHA-256", "SHA-512"`, 3},
		{"scram_hashes empty", "[auth]\n\nscram_hashes = []", "auth.scram_hashes", "at least one hash family is required", 3},
		{"scram_hashes scalar", "[auth]\nscram_hashes = \"SHA-256\"", "auth.scram_hashes", `"SHA-256" is not a list (write ["SHA-256"])`, 2},
		{"table element no line", "[[component.service]]\ndomain = \"c.example\"", "component.service[0].secret",
			"required", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := loadErrors(t, tc.text)
			e := findError(errs, tc.key)
			if e == nil {
				t.Fatalf("no error for %s in:\n%v", tc.key, errs)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
			if e.Line != tc.line {
				t.Errorf("line = %d, want %d", e.Line, tc.line)
			}
			if !strings.HasSuffix(e.File, "config.toml") {
				t.Errorf("file = %q, want the loaded path", e.File)
			}
		})
	}
}

func TestLoadSecretNotInMessage(t *testing.T) {
	errs := loadErrors(t, "[http]\nadmin_token = \"short-secret\"\n[storage]\npostgres_dsn = 987654321")
	if !strings.Contains(errs.Error(), "http.admin_token") {
		t.Fatalf("no admin_token error in %v", errs)
	}
	for _, secret := range []string{"short-secret", "987654321"} {
		if strings.Contains(errs.Error(), secret) {
			t.Errorf("error text contains the secret %q: %v", secret, errs)
		}
	}
}

func TestLoadUnknownKeys(t *testing.T) {
	cases := []struct {
		name, text, key, msg string
		line                 int
	}{
		{"top-level table", "[extra]\na = 1", "extra", "unknown key", 1},
		{"top-level key", "\nverbose = true", "verbose", "unknown key", 2},
		{"typo", "[server]\ndomain = \"a.example\"", "server.domain", "unknown key (did you mean server.domains?)", 2},
		{"wrong case", "[server]\nLog_Level = \"info\"", "server.Log_Level", "did you mean server.log_level?", 2},
		{"wrong case table", "[Server]\nlog_level = \"info\"", "Server", "did you mean server?", 1},
		{"nested", "[c2s.limits]\nx = 1", "c2s.limits", "unknown key", 1},
		{"in array of tables", "[[component.service]]\ndomain = \"c.example\"\nsecret = \"s\"\nport = 1",
			"component.service.port", "unknown key", 0},
		{"under a leaf", "[server]\nlog_level = { a = 1 }", "server.log_level", "a table is not a string", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := loadErrors(t, tc.text)
			e := findError(errs, tc.key)
			if e == nil {
				t.Fatalf("no error for %s in:\n%v", tc.key, errs)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
			if e.Line != tc.line {
				t.Errorf("line = %d, want %d", e.Line, tc.line)
			}
			if len(errs) != 1 {
				t.Errorf("got %d errors, want 1:\n%v", len(errs), errs)
			}
		})
	}
}

func TestLoadSyntaxError(t *testing.T) {
	errs := loadErrors(t, "[server]\nlog_level = \"info\"\ndomains = [\"a\"\n")
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1: %v", len(errs), errs)
	}
	if errs[0].Line == 0 {
		t.Errorf("syntax error has no line: %v", errs[0])
	}
	if errs[0].Key != "" {
		t.Errorf("syntax error key = %q, want empty", errs[0].Key)
	}
}

func TestLoadCollectsAllErrors(t *testing.T) {
	text := `
[server]
log_level = "loud"
unknown = 1

[c2s]
max_stanza_size = "big"
send_queue = 0

[storage]
backend = "mysql"
`
	errs := loadErrors(t, text)
	want := []struct {
		key  string
		line int
	}{
		{"server.log_level", 3},
		{"server.unknown", 4},
		{"c2s.max_stanza_size", 7},
		{"c2s.send_queue", 8},
		{"storage.backend", 11},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, w := range want {
		if errs[i].Key != w.key || errs[i].Line != w.line {
			t.Errorf("error %d = %s line %d, want %s line %d", i, errs[i].Key, errs[i].Line, w.key, w.line)
		}
	}
	first := strings.SplitN(errs.Error(), "\n", 2)[0]
	if !strings.HasSuffix(first, `config.toml:3: server.log_level: "loud" is not one of "debug", "info", "warn", "error"`) {
		t.Errorf("first line = %q", first)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(absent) = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadEmptyListsAreDefault(t *testing.T) {
	text := "[tls]\ncertificate = []\n[component]\nservice = []\n[server]\nadmins = []"
	cfg, err := Load(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	if !equalConfig(cfg, Default()) {
		t.Errorf("empty lists give %+v, want Default()", cfg)
	}
}

func TestLoadEmptyFileIsDefault(t *testing.T) {
	cfg, err := Load(writeConfig(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !equalConfig(cfg, Default()) {
		t.Errorf("empty file gives %+v, want Default()", cfg)
	}
}

func TestLoadValues(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.pem", "a.key"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	text := `
[server]
domains = ["Example.COM", "bücher.example"]
data_dir = "` + dir + `"
admins = ["Admin@Example.com"]

[c2s]
max_stanza_size = "1MiB"
max_stanza_size_before_auth = 20000
auth_timeout = "1m30s"
listen = []

[[tls.certificate]]
domain = "example.com"
cert_file = "a.pem"
key_file = "a.key"

[[component.service]]
domain = "muc.example.com"
secret = "s3cret"

[auth]
scram_hashes = ["SHA-512", "SHA-256"]

[modules]
disabled = ["vcard"]
`
	cfg, err := Load(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"normalised domain", cfg.Server.Domains[0], "example.com"},
		{"unicode domain", cfg.Server.Domains[1], "bücher.example"},
		{"normalised admin", cfg.Server.Admins[0], "admin@example.com"},
		{"size with unit", cfg.C2S.MaxStanzaSize, MiB},
		{"size in bytes", cfg.C2S.MaxStanzaSizeBeforeAuth, ByteSize(20000)},
		{"duration", cfg.C2S.AuthTimeout, 90 * time.Second},
		{"empty list", len(cfg.C2S.Listen), 0},
		{"default kept", cfg.C2S.SendQueue, 1000},
		{"certificate", cfg.TLS.Certificates[0], Certificate{"example.com", "a.pem", "a.key"}},
		{"component", cfg.Component.Services[0], ComponentService{"muc.example.com", "s3cret"}},
		{"disabled module", cfg.Modules.Enabled("vcard"), false},
		{"scram_hashes", strings.Join(cfg.Auth.SCRAMHashes, " "), "SHA-512 SHA-256"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}
