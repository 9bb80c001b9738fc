// Package config defines the schema of ternd's TOML configuration file, its
// defaults, and the validation that runs before the server starts.
//
// Load reads a file over the values of Default, so every key is optional.
// Unknown keys, values of the wrong type and values out of range are errors;
// Load collects all of them and returns them together as an Errors value,
// each naming the key, the value and what is allowed.
//
// Durations are strings with a unit ("60s", "10m"). Sizes are integers in
// bytes or strings with a binary unit ("256KiB", "1MiB"). Relative file paths
// are resolved against server.data_dir by Config.Path; a relative data_dir is
// itself relative to the working directory of the process.
package config

import (
	"crypto/tls"
	"log/slog"
	"path/filepath"
	"time"
)

// Config is the whole configuration of one ternd process. The zero value is
// not usable: start from Default or Load.
type Config struct {
	Server       Server       `toml:"server"`
	Storage      Storage      `toml:"storage"`
	TLS          TLS          `toml:"tls"`
	C2S          C2S          `toml:"c2s"`
	Auth         Auth         `toml:"auth"`
	Registration Registration `toml:"registration"`
	Offline      Offline      `toml:"offline"`
	Multicast    Multicast    `toml:"multicast"`
	Archive      Archive      `toml:"archive"`
	S2S          S2S          `toml:"s2s"`
	Component    Component    `toml:"component"`
	HTTP         HTTP         `toml:"http"`
	MUC          MUC          `toml:"muc"`
	Push         Push         `toml:"push"`
	Upload       Upload       `toml:"upload"`
	Modules      Modules      `toml:"modules"`

	// ExternalServices are the STUN and TURN servers announced to clients
	// (XEP-0215), one [[external_service]] table each.
	ExternalServices []ExternalService `toml:"external_service"`
}

// Server is the [server] table: the domains served and process-wide settings.
type Server struct {
	// Domains are the XMPP domains whose accounts this server hosts, in their
	// normalised form after Validate. The first one is the default for TLS
	// clients that send no server name.
	Domains []string `toml:"domains"`
	// DataDir is the directory for the SQLite database, generated
	// certificates and other state.
	DataDir string `toml:"data_dir"`
	// Admins are the bare JIDs of server administrators.
	Admins []string `toml:"admins"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `toml:"log_level"`
	// LogFormat is text or json.
	LogFormat string `toml:"log_format"`
	// ShutdownTimeout bounds a graceful stop, after which remaining
	// connections are closed.
	ShutdownTimeout time.Duration `toml:"shutdown_timeout"`
}

// Storage is the [storage] table: which database backend holds durable data.
type Storage struct {
	// Backend is sqlite or postgres.
	Backend string `toml:"backend"`
	// SQLiteFile is the database file, relative to DataDir unless absolute.
	SQLiteFile string `toml:"sqlite_file"`
	// PostgresDSN is the connection string for the postgres backend.
	PostgresDSN string `toml:"postgres_dsn" tern:"secret"`
}

// TLS is the [tls] table.
type TLS struct {
	// Required makes c2s and s2s streams negotiate TLS before
	// authentication.
	Required bool `toml:"required"`
	// MinVersion is "1.2" or "1.3"; see MinTLSVersion.
	MinVersion string `toml:"min_version"`
	// Certificates are certificate files per domain. A served domain with no
	// entry gets a self-signed certificate under <data_dir>/certs.
	Certificates []Certificate `toml:"certificate"`
}

// Certificate is one [[tls.certificate]] entry.
type Certificate struct {
	// Domain is a server domain or a component domain.
	Domain string `toml:"domain"`
	// CertFile is a PEM file with the certificate chain, leaf first.
	CertFile string `toml:"cert_file"`
	// KeyFile is a PEM file with the private key.
	KeyFile string `toml:"key_file"`
}

// C2S is the [c2s] table: client-to-server listeners and stream limits.
type C2S struct {
	// Listen are host:port addresses for plain TCP with STARTTLS.
	Listen []string `toml:"listen"`
	// DirectTLSListen are host:port addresses where TLS starts at once
	// (XEP-0368).
	DirectTLSListen []string `toml:"direct_tls_listen"`
	// MaxStanzaSize is the largest stanza accepted after authentication.
	MaxStanzaSize ByteSize `toml:"max_stanza_size"`
	// MaxStanzaSizeBeforeAuth is the largest element accepted before the
	// client has authenticated.
	MaxStanzaSizeBeforeAuth ByteSize `toml:"max_stanza_size_before_auth"`
	// MaxElementDepth is the deepest nesting of XML elements accepted,
	// counting the stream element as depth 1.
	MaxElementDepth int `toml:"max_element_depth"`
	// AuthTimeout is how long a new connection has to authenticate.
	AuthTimeout time.Duration `toml:"auth_timeout"`
	// KeepaliveInterval is how long a stream may be idle before the server
	// sends a ping; zero disables pings.
	KeepaliveInterval time.Duration `toml:"keepalive_interval"`
	// PingTimeout is how long the server waits for a ping reply before it
	// closes the stream.
	PingTimeout time.Duration `toml:"ping_timeout"`
	// SendQueue is how many stanzas may wait for one session before it is
	// treated as a slow consumer.
	SendQueue int `toml:"send_queue"`
	// ResumeTimeout is how long a stream-management session (XEP-0198)
	// whose connection broke stays resumable; zero disables resumption.
	ResumeTimeout time.Duration `toml:"resume_timeout"`
	// MaxUnacked is how many stanzas a stream-management session keeps
	// for redelivery before the client acknowledges them.
	MaxUnacked int `toml:"max_unacked"`
}

// Auth is the [auth] table: SASL settings and brute-force limits.
type Auth struct {
	// SCRAMIterations is the PBKDF2 iteration count for new SCRAM
	// credentials.
	SCRAMIterations int `toml:"scram_iterations"`
	// SCRAMHashes are the hash families ("SHA-1", "SHA-256", "SHA-512")
	// whose SCRAM keys are stored for new credentials and whose SCRAM-SHA-*
	// mechanisms are offered.
	SCRAMHashes []string `toml:"scram_hashes"`
	// AllowPlain offers SASL PLAIN, which is never offered outside TLS.
	AllowPlain bool `toml:"allow_plain"`
	// MaxFailuresPerIP is how many failed logins one IP address may make per
	// FailureWindow before its logins are rejected; zero means no limit.
	MaxFailuresPerIP int `toml:"max_failures_per_ip"`
	// MaxFailuresPerAccount is how many failed logins one account may receive
	// per FailureWindow before the server delays its responses to logins to
	// it from addresses without a recent successful login. Logins are never
	// rejected for it. Zero means no delay.
	MaxFailuresPerAccount int `toml:"max_failures_per_account"`
	// FailureWindow is the period over which failures are counted, and for
	// which a successful login exempts its address from the account delay.
	FailureWindow time.Duration `toml:"failure_window"`
}

// Registration is the [registration] table: in-band registration (XEP-0077).
type Registration struct {
	// Enabled lets clients create accounts.
	Enabled bool `toml:"enabled"`
	// MinPasswordLength is the shortest password accepted, counted in
	// Unicode code points. It applies to in-band registration and to
	// accounts created or changed with ternctl and the admin API.
	MinPasswordLength int `toml:"min_password_length"`
	// RatePerIP is how many accounts one IP address may create per
	// RateWindow; zero means no limit.
	RatePerIP int `toml:"rate_per_ip"`
	// RateWindow is the period over which registrations are counted.
	RateWindow time.Duration `toml:"rate_window"`
}

// Offline is the [offline] table: storage of messages for offline accounts.
type Offline struct {
	// MaxMessages is how many messages are kept per account; zero disables
	// offline storage.
	MaxMessages int `toml:"max_messages"`
}

// Archive is the [archive] table: message archives (XEP-0313).
type Archive struct {
	// Enabled archives the messages that accounts send and receive, and
	// lets accounts query their archives.
	Enabled bool `toml:"enabled"`
	// Retention is how long archived messages are kept; zero keeps them
	// forever.
	Retention time.Duration `toml:"retention"`
	// DefaultMode is the archiving preference of an account that has set
	// none: "always", "roster" (only messages exchanged with contacts in
	// the roster) or "never".
	DefaultMode string `toml:"default_mode"`
	// MaxPage is the largest number of messages returned for one query,
	// and the page size when the query gives none.
	MaxPage int `toml:"max_page"`
}

// S2S is the [s2s] table: federation with other servers.
type S2S struct {
	// Enabled turns federation on, both incoming and outgoing.
	Enabled bool `toml:"enabled"`
	// Listen are host:port addresses for incoming streams with STARTTLS.
	Listen []string `toml:"listen"`
	// DirectTLSListen are host:port addresses for incoming direct TLS.
	DirectTLSListen []string `toml:"direct_tls_listen"`
	// Dialback allows Server Dialback (XEP-0220) when a peer cannot be
	// authenticated by its certificate.
	Dialback bool `toml:"dialback"`
}

// Component is the [component] table: external components (XEP-0114).
type Component struct {
	// Listen is the host:port address for components; empty disables it.
	Listen string `toml:"listen"`
	// Services are the components allowed to connect.
	Services []ComponentService `toml:"service"`
}

// ComponentService is one [[component.service]] entry.
type ComponentService struct {
	// Domain is the component's domain.
	Domain string `toml:"domain"`
	// Secret is the shared secret of the XEP-0114 handshake.
	Secret string `toml:"secret" tern:"secret"`
}

// HTTP is the [http] table: the listener for metrics, WebSocket and the
// admin REST API.
type HTTP struct {
	// Listen is the host:port address; empty disables the listener.
	Listen string `toml:"listen"`
	// AdminToken is the bearer token of the admin REST API; empty disables
	// the API.
	AdminToken string `toml:"admin_token" tern:"secret"`
	// WebSocketAllowedOrigins are host patterns (path.Match syntax) of the
	// web pages on other hosts that may open a WebSocket.
	WebSocketAllowedOrigins []string `toml:"websocket_allowed_origins"`
}

// Modules is the [modules] table.
type Modules struct {
	// Disabled are names of modules that are not started.
	Disabled []string `toml:"disabled"`
}

// Default returns the configuration that ternd uses when it is started
// without a file: the domain localhost, data in ./data, SQLite storage.
// Each call returns a new value that the caller may change.
func Default() *Config {
	return &Config{
		Server: Server{
			Domains:         []string{"localhost"},
			DataDir:         "./data",
			LogLevel:        "info",
			LogFormat:       "text",
			ShutdownTimeout: 10 * time.Second,
		},
		Storage: Storage{Backend: "sqlite", SQLiteFile: "tern.db"},
		TLS:     TLS{Required: true, MinVersion: "1.2"},
		C2S: C2S{
			Listen:                  []string{":5222"},
			DirectTLSListen:         []string{":5223"},
			MaxStanzaSize:           256 * KiB,
			MaxStanzaSizeBeforeAuth: 16 * KiB,
			MaxElementDepth:         64,
			AuthTimeout:             60 * time.Second,
			KeepaliveInterval:       60 * time.Second,
			PingTimeout:             30 * time.Second,
			SendQueue:               1000,
			ResumeTimeout:           time.Hour,
			MaxUnacked:              500,
		},
		Auth: Auth{
			SCRAMIterations:       4096,
			SCRAMHashes:           SCRAMHashNames(),
			AllowPlain:            true,
			MaxFailuresPerIP:      5,
			MaxFailuresPerAccount: 10,
			FailureWindow:         5 * time.Minute,
		},
		Registration: Registration{MinPasswordLength: 8, RatePerIP: 1, RateWindow: 10 * time.Minute},
		Offline:      Offline{MaxMessages: 1000},
		Multicast:    defaultMulticast(),
		Archive:      Archive{Enabled: true, DefaultMode: "always", MaxPage: 250},
		S2S:          S2S{Enabled: true, Listen: []string{":5269"}, Dialback: true},
		Component:    Component{Listen: "127.0.0.1:5347"},
		HTTP:         HTTP{Listen: "127.0.0.1:5280"},
		MUC:          defaultMUC(),
		Push:         defaultPush(),
		Upload:       defaultUpload(),
	}
}

// Path resolves rel against server.data_dir. An absolute rel is returned
// cleaned; an empty rel returns the data directory itself.
func (c *Config) Path(rel string) string {
	if filepath.IsAbs(rel) {
		return filepath.Clean(rel)
	}
	return filepath.Join(c.Server.DataDir, rel)
}

// TLSDomains returns every domain that needs a certificate: the server
// domains in order, then the component domains.
func (c *Config) TLSDomains() []string {
	out := append([]string(nil), c.Server.Domains...)
	for _, s := range c.Component.Services {
		out = append(out, s.Domain)
	}
	return out
}

// MinTLSVersion returns the crypto/tls constant for MinVersion:
// tls.VersionTLS13 for "1.3" and tls.VersionTLS12 otherwise.
func (t TLS) MinTLSVersion() uint16 {
	if t.MinVersion == "1.3" {
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}

// SlogLevel returns the slog level for LogLevel; an unknown name, which
// Validate rejects, maps to slog.LevelInfo.
func (s Server) SlogLevel() slog.Level {
	switch s.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Enabled reports whether the module called name is not listed in Disabled.
func (m Modules) Enabled(name string) bool {
	for _, d := range m.Disabled {
		if d == name {
			return false
		}
	}
	return true
}
