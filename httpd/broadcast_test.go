package httpd_test

import (
	"net/http"
	"testing"

	"tern/admin"
	"tern/internal/xmpptest"
	"tern/stanza"
)

func TestBroadcastEndpoint(t *testing.T) {
	s := startServer(t)
	s.AddUser("alice", "secret")
	s.AddUser("bob", "secret")
	alice := s.Login("alice", "secret", "phone")

	var res admin.BroadcastResult
	tcpClient(t, s, testToken).doJSON("POST", "/api/v1/broadcast",
		`{"body":"restart at noon","subject":"Maintenance"}`, http.StatusOK, &res)
	if res.Recipients != 1 {
		t.Errorf("recipients = %d, want 1 online session", res.Recipients)
	}
	m := alice.Expect(xmpptest.IsMessage("restart at noon"))
	if m.Type != "headline" || m.Child("", "subject").Text() != "Maintenance" {
		t.Errorf("online broadcast = %s, want a headline with the subject", m)
	}

	socketClient(t, s).doJSON("POST", "/api/v1/broadcast",
		`{"body":"for everyone","offline":true}`, http.StatusOK, &res)
	if res.Recipients != 2 {
		t.Errorf("offline recipients = %d, want 2 accounts", res.Recipients)
	}
	if m := alice.Expect(xmpptest.IsMessage("for everyone")); m.Type != "normal" {
		t.Errorf("offline broadcast to an online account = %s, want type normal", m)
	}
	bob := s.Login("bob", "secret", "laptop")
	if m := bob.Expect(xmpptest.IsMessage("for everyone")); m.Child(stanza.NSDelay, "delay") == nil {
		t.Errorf("offline broadcast has no delay stamp: %s", m)
	}

	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"empty body", `{"body":"  "}`, http.StatusBadRequest},
		{"unknown domain", `{"body":"x","domain":"elsewhere.example"}`, http.StatusBadRequest},
		{"unknown field", `{"body":"x","urgent":true}`, http.StatusBadRequest},
		{"not JSON", `body=x`, http.StatusBadRequest},
	} {
		if status, body := socketClient(t, s).do("POST", "/api/v1/broadcast", tc.body); status != tc.want {
			t.Errorf("%s: status %d %s, want %d", tc.name, status, body, tc.want)
		}
	}
	if status, _ := tcpClient(t, s, "").do("POST", "/api/v1/broadcast", `{"body":"x"}`); status != http.StatusUnauthorized {
		t.Errorf("broadcast without token = %d, want 401", status)
	}
}
