package httpd_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	msasl "mellium.im/sasl"

	"tern/admin"
	"tern/config"
	"tern/httpd"
	"tern/internal/xmpptest"
	"tern/stanza"
)

// metricValue scrapes /metrics and returns the value of the sample
// without labels called name.
func metricValue(t *testing.T, c *apiClient, name string) float64 {
	t.Helper()
	status, body := c.do(http.MethodGet, "/metrics", "")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics = %d %s", status, body)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric %s has value %q: %v", name, value, err)
		}
		return v
	}
	t.Fatalf("metric %s not in /metrics output", name)
	return 0
}

func TestMetricsSessionsGauge(t *testing.T) {
	s := startServer(t)
	s.AddUser("alice", "secret")
	c := tcpClient(t, s, "")
	if got := metricValue(t, c, "tern_sessions_online"); got != 0 {
		t.Errorf("tern_sessions_online before login = %v, want 0", got)
	}
	for _, name := range []string{"go_goroutines", "process_open_fds"} {
		metricValue(t, c, name)
	}
	first := s.Login("alice", "secret", "one")
	// The ping round trip ends after the bind has been processed.
	first.Sync()
	if got := metricValue(t, c, "tern_sessions_online"); got != 1 {
		t.Errorf("tern_sessions_online after one login = %v, want 1", got)
	}
	s.Login("alice", "secret", "two").Sync()
	if got := metricValue(t, c, "tern_sessions_online"); got != 2 {
		t.Errorf("tern_sessions_online after two logins = %v, want 2", got)
	}
	if got := metricValue(t, c, "tern_c2s_connections"); got < 2 {
		t.Errorf("tern_c2s_connections = %v, want at least 2", got)
	}
}

func TestMetricsStanzaCounters(t *testing.T) {
	s := startServer(t)
	s.AddUser("alice", "secret")
	s.AddUser("bob", "secret")
	c := tcpClient(t, s, "")
	const routed = `tern_stanzas_routed_total{destination="local",kind="message"}`
	const bounced = `tern_stanzas_bounced_total{kind="message"}`
	before := metricValue(t, c, routed)
	if got := metricValue(t, c, bounced); got != 0 {
		t.Errorf("%s before any message = %v, want 0", bounced, got)
	}

	alice := s.Login("alice", "secret", "a")
	bob := s.Login("bob", "secret", "b")
	alice.Send("<message to='bob@localhost/b' type='chat' id='m1'><body>hi</body></message>")
	bob.Expect(func(st *stanza.Stanza) bool { return st.Name == "message" && st.ID == "m1" })
	if got := metricValue(t, c, routed); got < before+1 {
		t.Errorf("%s after a chat message = %v, want at least %v", routed, got, before+1)
	}

	// No route leads to the domain, because federation is off in tests.
	alice.Send("<message to='someone@example.invalid' type='chat' id='m2'><body>hi</body></message>")
	alice.Expect(func(st *stanza.Stanza) bool { return st.Type == "error" && st.ID == "m2" })
	if got := metricValue(t, c, bounced); got != 1 {
		t.Errorf("%s after a message without a route = %v, want 1", bounced, got)
	}
}

func TestAPITokenRequired(t *testing.T) {
	s := startServer(t)
	s.AddUser("bob", "secret")
	s.AddUser("carol", "secret")
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/users", "", http.StatusOK},
		{"POST", "/api/v1/users", `{"jid":"dave@localhost","password":"dave-password"}`, http.StatusCreated},
		{"PUT", "/api/v1/users/bob@localhost/password", `{"password":"new-password"}`, http.StatusNoContent},
		{"DELETE", "/api/v1/users/carol@localhost", "", http.StatusNoContent},
		{"GET", "/api/v1/sessions", "", http.StatusOK},
		{"GET", "/api/v1/stats", "", http.StatusOK},
	} {
		name := tc.method + " " + tc.path
		for _, token := range []string{"", "wrong-token-0123456789", testToken + "x"} {
			status, body := tcpClient(t, s, token).do(tc.method, tc.path, tc.body)
			if status != http.StatusUnauthorized {
				t.Errorf("%s with token %q = %d %s, want 401", name, token, status, body)
			}
		}
		if status, body := tcpClient(t, s, testToken).do(tc.method, tc.path, tc.body); status != tc.want {
			t.Errorf("%s with token = %d %s, want %d", name, status, body, tc.want)
		}
	}
}

func TestAPIOffWithoutToken(t *testing.T) {
	s := xmpptest.Start(t, func(c *config.Config) { c.HTTP.AdminToken = "" })
	for _, token := range []string{"", testToken} {
		if status, _ := tcpClient(t, s, token).do("GET", "/api/v1/stats", ""); status != http.StatusNotFound {
			t.Errorf("GET /api/v1/stats with token %q and no admin_token = %d, want 404", token, status)
		}
	}
	if status, _ := tcpClient(t, s, "").do("GET", "/metrics", ""); status != http.StatusOK {
		t.Errorf("GET /metrics with no admin_token = %d, want 200", status)
	}
	// The control socket serves the API all the same.
	var st admin.Stats
	socketClient(t, s).doJSON("GET", "/api/v1/stats", "", http.StatusOK, &st)
}

func TestNonCanonicalPathsRejected(t *testing.T) {
	s := startServer(t)
	s.AddUser("alice", "secret")
	clients := map[string]*apiClient{
		"tcp":    tcpClient(t, s, testToken),
		"socket": socketClient(t, s),
	}
	payloads := []string{"..%2f..%2fapi/v1/users", "%2e%2e/", "%u002e", "%2>", "..;/"}
	for _, prefix := range []string{"/api/v1/", "/metrics/", "/.well-known/"} {
		for _, p := range payloads {
			for name, c := range clients {
				status, body := c.do("GET", prefix+p, "")
				if status != http.StatusBadRequest && status != http.StatusNotFound {
					t.Errorf("%s: GET %s = %d %s, want 400 or 404", name, prefix+p, status, body)
				}
			}
		}
	}
	// Paths that a naive server would clean into an API path.
	for _, path := range []string{"/metrics/../api/v1/users", "/api/v1/users/../users", "/api/v1/./users"} {
		if status, _ := tcpClient(t, s, "").do("GET", path, ""); status != http.StatusBadRequest {
			t.Errorf("GET %s without token = %d, want 400", path, status)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	s := startServer(t)
	s.AddUser("alice", "secret")
	c := tcpClient(t, s, testToken)
	big := fmt.Sprintf(`{"password":%q}`, strings.Repeat("x", 70<<10))
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/users", `{"jid":"alice@localhost","password":"alice-password"}`, http.StatusConflict},
		{"POST", "/api/v1/users", `{"jid":"x@elsewhere.example","password":"pw"}`, http.StatusBadRequest},
		{"POST", "/api/v1/users", `{"jid":"x@localhost","password":""}`, http.StatusBadRequest},
		{"POST", "/api/v1/users", `{"jid":"x@localhost","password":"pw","admin":true}`, http.StatusBadRequest},
		{"POST", "/api/v1/users", `not json`, http.StatusBadRequest},
		{"POST", "/api/v1/users", `[]`, http.StatusBadRequest},
		{"DELETE", "/api/v1/users/nobody@localhost", "", http.StatusNotFound},
		{"DELETE", "/api/v1/users/alice@localhost%2Fres", "", http.StatusBadRequest},
		{"PUT", "/api/v1/users/nobody@localhost/password", `{"password":"new-password"}`, http.StatusNotFound},
		{"PUT", "/api/v1/users/alice@localhost/password", big, http.StatusRequestEntityTooLarge},
		{"GET", "/api/v1/users?domain=elsewhere.example", "", http.StatusBadRequest},
		{"PATCH", "/api/v1/users", "", http.StatusMethodNotAllowed},
		{"GET", "/api/v1/nothing", "", http.StatusNotFound},
	} {
		status, body := c.do(tc.method, tc.path, tc.body)
		if status != tc.want {
			t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, status, body, tc.want)
		}
		var er httpd.ErrorResponse
		if err := json.Unmarshal([]byte(body), &er); err != nil || er.Error == "" {
			t.Errorf("%s %s: body %q is not a JSON error", tc.method, tc.path, body)
		}
	}
	var users httpd.UsersResponse
	c.doJSON("GET", "/api/v1/users", "", http.StatusOK, &users)
	if len(users.Users) != 1 || users.Users[0] != "alice@localhost" {
		t.Errorf("users after rejected requests = %q, want only alice@localhost", users.Users)
	}
}

func TestBulkAddThousand(t *testing.T) {
	s := startServer(t)
	c := tcpClient(t, s, testToken)
	const n = 1000
	users := make([]admin.NewUser, n)
	for i := range users {
		users[i] = admin.NewUser{JID: fmt.Sprintf("user%04d@localhost", i), Password: fmt.Sprintf("password-%d", i)}
	}
	body, _ := json.Marshal(users)
	start := time.Now()
	var resp httpd.AddUsersResponse
	c.doJSON("POST", "/api/v1/users", string(body), http.StatusCreated, &resp)
	t.Logf("POST /api/v1/users with %d users, %d PBKDF2 iterations: %v", n, s.Config().Auth.SCRAMIterations, time.Since(start))
	if resp.Created != n {
		t.Errorf("created = %d, want %d", resp.Created, n)
	}
	var st admin.Stats
	c.doJSON("GET", "/api/v1/stats", "", http.StatusOK, &st)
	if st.Accounts["localhost"] != n {
		t.Errorf("stats accounts = %v, want localhost: %d", st.Accounts, n)
	}
	s.Login("user0999", "password-999", "r").Sync()
}

func TestDeleteKicksSession(t *testing.T) {
	s := startServer(t)
	s.AddUser("alice", "secret")
	cl := s.Login("alice", "secret", "phone")
	cl.Sync()
	tcpClient(t, s, testToken).doJSON("DELETE", "/api/v1/users/alice@localhost", "", http.StatusNoContent, nil)
	el := cl.Expect(xmpptest.IsStreamError)
	if got := xmpptest.StreamErrorCondition(el); got != "not-authorized" {
		t.Errorf("stream error = %q, want not-authorized", got)
	}
	if err := authenticate(t, s, "alice", "secret"); err == nil || err.Error() != "not-authorized" {
		t.Errorf("login after delete = %v, want not-authorized", err)
	}
}

func TestSetPasswordKeepsSession(t *testing.T) {
	s := startServer(t)
	s.AddUser("alice", "old-secret")
	cl := s.Login("alice", "old-secret", "phone")
	cl.Sync()
	socketClient(t, s).doJSON("PUT", "/api/v1/users/alice@localhost/password", `{"password":"new-secret"}`, http.StatusNoContent, nil)
	cl.Sync() // the session still responds to pings
	s.Login("alice", "new-secret", "laptop").Sync()
	if err := authenticate(t, s, "alice", "old-secret"); err == nil || err.Error() != "not-authorized" {
		t.Errorf("login with the old password = %v, want not-authorized", err)
	}
}

// authenticate connects and returns the SASL result for local/password.
func authenticate(t *testing.T, s *xmpptest.Server, local, password string) error {
	c := xmpptest.DialTLS(t, s.Addr("c2s-tls"), s.Domain())
	if err := c.Open(); err != nil {
		t.Fatalf("open stream: %v", err)
	}
	return c.Auth(msasl.ScramSha256, local, password)
}

func TestSessionsEndpoint(t *testing.T) {
	s := startServer(t)
	s.AddUser("alice", "secret")
	s.Login("alice", "secret", "phone").Sync()
	s.Login("alice", "secret", "laptop!").Sync()
	var resp httpd.SessionsResponse
	socketClient(t, s).doJSON("GET", "/api/v1/sessions", "", http.StatusOK, &resp)
	want := []admin.SessionInfo{
		{JID: "alice@localhost/laptop", Resource: "laptop"},
		{JID: "alice@localhost/phone", Resource: "phone", Available: true},
	}
	if len(resp.Sessions) != len(want) {
		t.Fatalf("sessions = %+v, want %+v", resp.Sessions, want)
	}
	for i := range want {
		got := resp.Sessions[i]
		got.Address = "" // not every transport exposes it
		if got != want[i] {
			t.Errorf("session %d = %+v, want %+v", i, got, want[i])
		}
	}
}

func TestSocketRemovedOnShutdown(t *testing.T) {
	s := startServer(t)
	path := filepath.Join(s.Config().Server.DataDir, httpd.SocketName)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("control socket: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("control socket mode = %o, want 600", perm)
	}
	s.Stop()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("control socket after shutdown: %v, want it removed", err)
	}
}
