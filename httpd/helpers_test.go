package httpd_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"tern/config"
	"tern/httpd"
	"tern/internal/xmpptest"
)

// testToken is the admin token of the servers these tests start.
const testToken = "test-admin-token-0123456789"

// startServer starts a server whose admin API takes testToken.
func startServer(t *testing.T, opts ...func(*config.Config)) *xmpptest.Server {
	t.Helper()
	withToken := func(c *config.Config) { c.HTTP.AdminToken = testToken }
	return xmpptest.Start(t, append([]func(*config.Config){withToken}, opts...)...)
}

// apiClient sends requests to one listener of a test server.
type apiClient struct {
	t     *testing.T
	host  string
	token string
	hc    *http.Client
}

// tcpClient returns a client for the server's http.listen address that
// sends token ("" for none).
func tcpClient(t *testing.T, s *xmpptest.Server, token string) *apiClient {
	return &apiClient{t: t, host: s.Addr("http"), token: token, hc: &http.Client{}}
}

// socketClient returns a client for the server's control socket.
func socketClient(t *testing.T, s *xmpptest.Server) *apiClient {
	path := filepath.Join(s.Config().Server.DataDir, httpd.SocketName)
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &apiClient{t: t, host: "ternd", hc: &http.Client{Transport: tr}}
}

// do sends a request for target, a path with an optional query that is
// sent exactly as written, and returns the status and body.
func (c *apiClient) do(method, target, body string) (int, []byte) {
	c.t.Helper()
	path, query, _ := strings.Cut(target, "?")
	req, err := http.NewRequest(method, "http://"+c.host+"/", strings.NewReader(body))
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	req.URL = &url.URL{Scheme: "http", Host: c.host, Opaque: path, RawQuery: query}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp.StatusCode, data
}

// doJSON sends a request, checks its status and decodes the body into
// out unless out is nil.
func (c *apiClient) doJSON(method, target, body string, want int, out any) {
	c.t.Helper()
	status, data := c.do(method, target, body)
	if status != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, target, status, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, target, data, err)
		}
	}
}
