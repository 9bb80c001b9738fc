package httpd

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheckCanonical(t *testing.T) {
	for i, tc := range []struct {
		path string
		ok   bool
	}{
		0:  {"/", true},
		1:  {"/metrics", true},
		2:  {"/api/v1/users/alice@example.com", true},
		3:  {"/api/v1/users/", true},
		4:  {"/api/v1/users/j%C3%BCrgen@example.com", true},
		5:  {"/api/v1/users/a%40b", true},
		6:  {"/api/v1/users/a%3Bb@example.com", true},
		7:  {"/.well-known/host-meta", true},
		8:  {"/api/v1/../metrics", false},
		9:  {"/api/v1/./users", false},
		10: {"/api/v1/..", false},
		11: {"/api/v1/.", false},
		12: {"/api/v1/%2e%2e/metrics", false},
		13: {"/api/v1/%2E%2E/metrics", false},
		14: {"/api/v1/..%2f..%2fapi/v1/users", false},
		15: {"/api/v1/..%2F", false},
		16: {"/api/v1/%5c", false},
		17: {"/api/v1/..;/users", false},
		18: {"/api/v1;x/users", false},
		19: {"/api/v1/%u002e", false},
		20: {"/api/v1/%2>", false},
		21: {"/api/v1/%2", false},
		22: {"/api/v1/%", false},
		23: {"/api//v1", false},
		24: {"//api/v1", false},
		25: {"/api/v1/%61", false},
		26: {"/api/v1/%00", false},
		27: {"/api/v1/a\\b", false},
		28: {"*", false},
		29: {"", false},
		30: {"/a b", false},
		31: {"/api/v1/%7e", false},
	} {
		err := checkCanonical(tc.path)
		if tc.ok && err != nil {
			t.Errorf("%d: checkCanonical(%q) = %v, want nil", i, tc.path, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%d: checkCanonical(%q) = nil, want an error", i, tc.path)
		}
	}
}

func TestRemoveDotSegments(t *testing.T) {
	// The examples of RFC 3986 §5.2.4 and §5.4.
	for i, tc := range []struct{ in, want string }{
		0: {"/a/b/c/./../../g", "/a/g"},
		1: {"mid/content=5/../6", "mid/6"},
		2: {"/b/c/../../../g", "/g"},
		3: {"/b/c/./g", "/b/c/g"},
		4: {"/b/c/g/.", "/b/c/g/"},
		5: {"/b/c/g/..", "/b/c/"},
		6: {"/b/c/..g", "/b/c/..g"},
		7: {"/b/./../g", "/g"},
		8: {"/", "/"},
		9: {"", ""},
	} {
		if got := removeDotSegments(tc.in); got != tc.want {
			t.Errorf("%d: removeDotSegments(%q) = %q, want %q", i, tc.in, got, tc.want)
		}
	}
}

func TestRequestPathAbsoluteForm(t *testing.T) {
	for i, tc := range []struct{ uri, want string }{
		0: {"/api/v1/users?domain=x", "/api/v1/users"},
		1: {"http://localhost:5280/api/v1/%2e%2e/x?y", "/api/v1/%2e%2e/x"},
		2: {"http://localhost:5280", "/"},
		3: {"*", "*"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RequestURI = tc.uri
		if got := requestPath(r); got != tc.want {
			t.Errorf("%d: requestPath(%q) = %q, want %q", i, tc.uri, got, tc.want)
		}
	}
}

func TestRequireCanonicalRejectsBeforeHandler(t *testing.T) {
	called := false
	h := requireCanonical(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RequestURI = "/api/v1/%2e%2e/metrics"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", w.Code)
	}
	if called {
		t.Error("handler ran for a non-canonical path")
	}
}
