package httpd_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tern/config"
	"tern/httpd"
)

func TestAPIErrorMessages(t *testing.T) {
	s := startServer(t)
	s.AddUser("mercutio", "secret")
	c := tcpClient(t, s, testToken)
	big := fmt.Sprintf(`{"password":%q}`, strings.Repeat("x", 70<<10))
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/api/v1/users", `{"jid":"mercutio@localhost","password":"long enough"}`, http.StatusConflict,
			"account already exists: mercutio@localhost"},
		{"POST", "/api/v1/broadcast", `{"body":" "}`, http.StatusBadRequest,
			"broadcast message has an empty body"},
		{"POST", "/api/v1/users", `{"jid":"x@elsewhere.example","password":"pw"}`, http.StatusBadRequest,
			"domain not served by this server: elsewhere.example in x@elsewhere.example; the served domains are localhost"},
		{"POST", "/api/v1/users", `{"jid":"x@localhost","password":"\u0007bell"}`, http.StatusBadRequest,
			"invalid password for x@localhost: the password contains a character that passwords may not contain, such as a control character"},
		{"DELETE", "/api/v1/users/nobody@localhost", "", http.StatusNotFound,
			"account does not exist: nobody@localhost"},
		{"PUT", "/api/v1/users/nobody@localhost/password", `{"password":"long enough"}`, http.StatusNotFound,
			"account does not exist: nobody@localhost"},
		{"PUT", "/api/v1/users/mercutio@localhost/password", "", http.StatusBadRequest,
			"invalid request body: the body is empty"},
		{"PUT", "/api/v1/users/mercutio@localhost/password", `{"password":7}`, http.StatusBadRequest,
			`invalid request body: field "password" must be a string, not number`},
		{"PUT", "/api/v1/users/mercutio@localhost/password", `{"password":"x","admin":true}`, http.StatusBadRequest,
			`invalid request body: unknown field "admin"`},
		{"PUT", "/api/v1/users/mercutio@localhost/password", big, http.StatusRequestEntityTooLarge,
			"request body too large: the limit is 65536 bytes"},
	} {
		name := tc.method + " " + tc.path + " " + tc.body
		if len(name) > 80 {
			name = name[:80]
		}
		status, body := c.do(tc.method, tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d", name, status, tc.status)
		}
		var e httpd.ErrorResponse
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("%s: body %s is not an error object: %v", name, body, err)
			continue
		}
		if e.Error != tc.want {
			t.Errorf("%s: error %q, want %q", name, e.Error, tc.want)
		}
	}
}

func TestAPIUnknownRouteJSON(t *testing.T) {
	s := startServer(t)
	clients := map[string]*apiClient{
		"tcp":    tcpClient(t, s, testToken),
		"socket": socketClient(t, s),
	}
	for _, tc := range []struct {
		method, path string
		status       int
		allow, want  string
	}{
		{"GET", "/api/v1/nothing", http.StatusNotFound, "",
			"no API endpoint at /api/v1/nothing"},
		{"GET", "/api/v2/users", http.StatusNotFound, "",
			"no API endpoint at /api/v2/users"},
		{"PATCH", "/api/v1/users", http.StatusMethodNotAllowed, "GET, HEAD, POST",
			"method PATCH not allowed on /api/v1/users; allowed methods: GET, HEAD, POST"},
		{"POST", "/api/v1/stats", http.StatusMethodNotAllowed, "GET, HEAD",
			"method POST not allowed on /api/v1/stats; allowed methods: GET, HEAD"},
	} {
		for name, c := range clients {
			req, err := http.NewRequest(tc.method, "http://"+c.host+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := c.hc.Do(req)
			if err != nil {
				t.Fatalf("%s: %s %s: %v", name, tc.method, tc.path, err)
			}
			var e httpd.ErrorResponse
			decodeErr := json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()

			label := name + ": " + tc.method + " " + tc.path
			if resp.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d", label, resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type %q, want application/json", label, ct)
			}
			if allow := resp.Header.Get("Allow"); allow != tc.allow {
				t.Errorf("%s: Allow %q, want %q", label, allow, tc.allow)
			}
			if decodeErr != nil {
				t.Errorf("%s: body is not an error object: %v", label, decodeErr)
			} else if e.Error != tc.want {
				t.Errorf("%s: error %q, want %q", label, e.Error, tc.want)
			}
		}
	}
}

func TestAPIMinPasswordLength(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.Registration.MinPasswordLength = 6 })
	s.AddUser("alice", "alice-password")
	c := socketClient(t, s)
	want := "the password must have at least 6 characters (registration.min_password_length)"
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/users", `{"jid":"bob@localhost","password":"12345"}`},
		{"PUT", "/api/v1/users/alice@localhost/password", `{"password":"12345"}`},
	} {
		status, body := c.do(tc.method, tc.path, tc.body)
		if status != http.StatusBadRequest {
			t.Errorf("%s %s with 5 characters: status %d, want 400", tc.method, tc.path, status)
		}
		if !strings.Contains(string(body), want) {
			t.Errorf("%s %s with 5 characters: body %s, want it to contain %q", tc.method, tc.path, body, want)
		}
	}
	c.doJSON("POST", "/api/v1/users", `{"jid":"bob@localhost","password":"123456"}`, http.StatusCreated, nil)
	c.doJSON("PUT", "/api/v1/users/alice@localhost/password", `{"password":"123456"}`, http.StatusNoContent, nil)
	s.Login("bob", "123456", "r").Sync()
	s.Login("alice", "123456", "r").Sync()
}
