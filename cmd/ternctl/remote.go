package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"tern/admin"
	"tern/httpd"
)

// remote runs the operations on a running server through the REST API
// on its control socket.
type remote struct {
	hc        *http.Client
	transport *http.Transport
}

func newRemote(socket string) *remote {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: dialTimeout}
			return d.DialContext(ctx, "unix", socket)
		},
	}
	return &remote{hc: &http.Client{Transport: tr}, transport: tr}
}

func (r *remote) close() { r.transport.CloseIdleConnections() }

func (r *remote) AddUsers(ctx context.Context, users []admin.NewUser) error {
	var resp httpd.AddUsersResponse
	return r.call(ctx, http.MethodPost, "/api/v1/users", users, &resp)
}

func (r *remote) DeleteUser(ctx context.Context, account string) error {
	target, err := userPath(account, "")
	if err != nil {
		return err
	}
	return r.call(ctx, http.MethodDelete, target, nil, nil)
}

func (r *remote) SetPassword(ctx context.Context, account, password string) error {
	target, err := userPath(account, "/password")
	if err != nil {
		return err
	}
	return r.call(ctx, http.MethodPut, target, httpd.PasswordRequest{Password: password}, nil)
}

func (r *remote) ListUsers(ctx context.Context, domain string) ([]string, error) {
	target := "/api/v1/users"
	if domain != "" {
		target += "?domain=" + url.QueryEscape(domain)
	}
	var resp httpd.UsersResponse
	err := r.call(ctx, http.MethodGet, target, nil, &resp)
	return resp.Users, err
}

func (r *remote) Sessions(ctx context.Context) ([]admin.SessionInfo, error) {
	var resp httpd.SessionsResponse
	err := r.call(ctx, http.MethodGet, "/api/v1/sessions", nil, &resp)
	return resp.Sessions, err
}

func (r *remote) Stats(ctx context.Context) (admin.Stats, error) {
	var st admin.Stats
	err := r.call(ctx, http.MethodGet, "/api/v1/stats", nil, &st)
	return st, err
}

func (r *remote) Broadcast(ctx context.Context, b admin.Broadcast) (admin.BroadcastResult, error) {
	var res admin.BroadcastResult
	err := r.call(ctx, http.MethodPost, "/api/v1/broadcast", b, &res)
	return res, err
}

// userPath returns the API path of an account followed by suffix. A JID
// with a '/' is rejected here, because the server rejects an encoded
// slash in a path before it could report the problem with the JID.
func userPath(account, suffix string) (string, error) {
	if strings.Contains(account, "/") {
		return "", fmt.Errorf("%w %q: use the bare JID, without a resource", admin.ErrInvalidJID, account)
	}
	return "/api/v1/users/" + url.PathEscape(account) + suffix, nil
}

// call sends a request with body as JSON (none when nil) and decodes a
// successful response into out unless out is nil. An error response is
// returned as an error with the server's message.
func (r *remote) call(ctx context.Context, method, target string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://ternd"+target, rd)
	if err != nil {
		return fmt.Errorf("build request %s %s: %w", method, target, err)
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("request to ternd failed: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read response of ternd: %w", err)
	}

	if resp.StatusCode >= 300 {
		return responseError(resp.StatusCode, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response of ternd: %w", err)
	}
	return nil
}

// responseError returns the server's error message, or the status when
// the body has none.
func responseError(status int, data []byte) error {
	var e httpd.ErrorResponse
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return errors.New(e.Error)
	}
	return fmt.Errorf("ternd responded with %d %s: %s", status, http.StatusText(status), bytes.TrimSpace(data))
}
