package e2e

import (
	"bytes"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tern/internal/xmpptest"
)

// logBuffer collects a server's log records. The server logs from many
// goroutines, so access is locked.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// record returns the first text-format record with message msg, or "".
// The text handler quotes msg, because every message checked here has a
// space.
func (l *logBuffer) record(msg string) string {
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, "msg="+strconv.Quote(msg)+" ") {
			return line
		}
	}
	return ""
}

// startLogged starts a server that logs at the info level to the
// returned buffer.
func startLogged(t *testing.T, opts ...func(*configT)) (*xmpptest.Server, *logBuffer) {
	buf := &logBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return xmpptest.StartWithLog(t, log, opts...), buf
}

// checkRecord fails the test unless the info record msg contains every
// attribute of want.
func checkRecord(t *testing.T, logs *logBuffer, msg string, want ...string) {
	t.Helper()
	rec := logs.record(msg)
	if rec == "" {
		t.Errorf("no record %q in the log:\n%s", msg, logs)
		return
	}
	if !strings.Contains(rec, "level=INFO") {
		t.Errorf("record %q is not at the info level: %s", msg, rec)
	}
	for _, attr := range want {
		if !strings.Contains(rec, " "+attr) {
			t.Errorf("record %q lacks %s: %s", msg, attr, rec)
		}
	}
}

func TestAuditLogRegisterAndLogin(t *testing.T) {
	s, logs := startLogged(t, func(c *configT) { c.Registration.Enabled = true })
	const password, newPassword = "benvolio-first-pw", "benvolio-second-pw"

	c := xmpptest.Dial(t, s.Addr("c2s"), s.Domain())
	if err := c.Open(); err != nil {
		t.Fatalf("open stream: %v", err)
	}
	c.StartTLS()
	c.Send(`<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>benvolio</username><password>` + password + `</password></query></iq>`)
	if resp, err := c.Read(); err != nil || resp.Type != "result" {
		t.Fatalf("registration = %v, %v; want a result", resp, err)
	}
	c.Close()
	checkRecord(t, logs, "account registered", "jid=benvolio@localhost", "ip=127.0.0.1")

	cl := s.Login("benvolio", password, "phone")
	checkRecord(t, logs, "authentication succeeded", "jid=benvolio@localhost", "ip=127.0.0.1", "conn=")
	if rec := logs.record("authentication succeeded"); !regexp.MustCompile(` conn=[0-9a-f]{16} `).MatchString(rec) {
		t.Errorf("login record lacks the session id: %s", rec)
	}

	resp := cl.Request(`<iq type='set' id='pw'><query xmlns='jabber:iq:register'><username>benvolio</username><password>`+newPassword+`</password></query></iq>`, "pw")
	if resp.Type != "result" {
		t.Fatalf("password change = %s, want a result", resp)
	}
	checkRecord(t, logs, "password changed", "jid=benvolio@localhost")

	out := logs.String()
	for _, secret := range []string{password, newPassword} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains the password %q:\n%s", secret, out)
		}
	}
}

func TestAuditLogAdminAPI(t *testing.T) {
	s, logs := startLogged(t, func(c *configT) { c.HTTP.AdminToken = adminToken })
	const password, newPassword = "mercutio-first-pw", "mercutio-second-pw"
	api := func(method, path, body string, want int) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+s.Addr("http")+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s = %s, want %d", method, path, resp.Status, want)
		}
	}

	api("POST", "/api/v1/users", `{"jid":"mercutio@localhost","password":"`+password+`"}`, http.StatusCreated)
	checkRecord(t, logs, "account created", "jid=mercutio@localhost")
	api("PUT", "/api/v1/users/mercutio@localhost/password", `{"password":"`+newPassword+`"}`, http.StatusNoContent)
	checkRecord(t, logs, "password changed", "jid=mercutio@localhost")
	api("DELETE", "/api/v1/users/mercutio@localhost", "", http.StatusNoContent)
	checkRecord(t, logs, "account deleted", "jid=mercutio@localhost", "sessions_closed=0")

	out := logs.String()
	for _, secret := range []string{password, newPassword, adminToken} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains the secret %q:\n%s", secret, out)
		}
	}
}
