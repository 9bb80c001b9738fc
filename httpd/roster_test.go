package httpd_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"tern/httpd"
)

func TestDeleteRosterItemNotFound(t *testing.T) {
	s := startServer(t)
	s.AddUser("tybalt", "secret")
	c := tcpClient(t, s, testToken)

	for _, tc := range []struct {
		name, path, want string
	}{
		{"contact not on the roster", "/api/v1/users/tybalt@localhost/roster/juliet@localhost", "contact is not on the roster of tybalt@localhost: juliet@localhost"},
		{"missing account", "/api/v1/users/nobody@localhost/roster/juliet@localhost", "account does not exist: nobody@localhost"},
	} {
		status, body := c.do("DELETE", tc.path, "")
		if status != http.StatusNotFound {
			t.Errorf("%s: status %d %s, want 404", tc.name, status, body)
		}
		var e httpd.ErrorResponse
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("%s: body %s is not an error object: %v", tc.name, body, err)
			continue
		}
		if e.Error != tc.want {
			t.Errorf("%s: error %q, want %q", tc.name, e.Error, tc.want)
		}
	}

	c.doJSON("PUT", "/api/v1/users/tybalt@localhost/roster/juliet@localhost", `{"name":"Juliet"}`, http.StatusNoContent, nil)
	c.doJSON("DELETE", "/api/v1/users/tybalt@localhost/roster/juliet@localhost", "", http.StatusNoContent, nil)
	status, body := c.do("DELETE", "/api/v1/users/tybalt@localhost/roster/juliet@localhost", "")
	if status != http.StatusNotFound || !strings.Contains(string(body), "not on the roster") {
		t.Errorf("second DELETE = %d %s, want 404 naming the roster", status, body)
	}
}
