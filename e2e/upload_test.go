package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tern/component/componenttest"
	"tern/config"
	"tern/internal/xmpptest"
	"tern/stanza"
)

const (
	nsUpload      = "urn:xmpp:http:upload:0"
	uploadService = "upload.localhost"
)

var uploadIDCounter atomic.Int64

// requestSlot sends a slot request for a file and returns the response.
func requestSlot(c *xmpptest.Client, filename string, size int64, contentType string) *stanza.Stanza {
	id := fmt.Sprintf("slot%d", uploadIDCounter.Add(1))
	return c.Request(fmt.Sprintf("<iq type='get' id='%s' to='%s'><request xmlns='%s' filename='%s' size='%d' content-type='%s'/></iq>",
		id, uploadService, nsUpload, xmpptest.Escape(filename), size, xmpptest.Escape(contentType)), id)
}

// slotURLs returns the PUT and GET URLs of a slot response, failing the
// test when it is not a slot.
func slotURLs(t *testing.T, resp *stanza.Stanza) (put, get string) {
	t.Helper()
	slot := resp.Child(nsUpload, "slot")
	if resp.Type != "result" || slot == nil {
		t.Fatalf("slot request: %s", resp)
	}
	put = slot.Child(nsUpload, "put").AttrValue("url")
	get = slot.Child(nsUpload, "get").AttrValue("url")
	if put == "" || get == "" {
		t.Fatalf("slot without URLs: %s", resp)
	}
	return put, get
}

// httpDo sends a request and returns the response with its body read.
func httpDo(t *testing.T, method, target, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, target, err)
	}
	return resp, data
}

func startUpload(t *testing.T, opts ...func(*config.Config)) *xmpptest.Server {
	t.Helper()
	s := xmpptest.Start(t, opts...)
	s.AddUser("romeo", "r-secret")
	return s
}

func TestUploadDisco(t *testing.T) {
	s := startUpload(t, func(c *config.Config) { c.Upload.MaxFileSize = 5 * config.MiB })
	romeo := s.Login("romeo", "r-secret", "phone")

	items := romeo.Request("<iq type='get' id='i1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>", "i1")
	listed := false
	for _, it := range items.Child("http://jabber.org/protocol/disco#items", "query").Elements() {
		if it.AttrValue("jid") == uploadService {
			listed = true
		}
	}
	if !listed {
		t.Errorf("server disco#items lacks %s: %s", uploadService, items)
	}

	info := romeo.Request("<iq type='get' id='i2' to='"+uploadService+"'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "i2")
	q := info.Child("http://jabber.org/protocol/disco#info", "query")
	if q == nil {
		t.Fatalf("disco#info: %s", info)
	}
	id := q.Child("", "identity")
	if id.AttrValue("category") != "store" || id.AttrValue("type") != "file" {
		t.Errorf("identity = %s, want store/file", id)
	}
	if !discoHasFeature(info, nsUpload) {
		t.Errorf("disco#info lacks %s: %s", nsUpload, info)
	}
	maxSize := ""
	for _, f := range q.Child("jabber:x:data", "x").ChildrenNamed("", "field") {
		if f.AttrValue("var") == "max-file-size" {
			maxSize = f.Child("", "value").Text()
		}
	}
	if maxSize != "5242880" {
		t.Errorf("max-file-size = %q, want 5242880: %s", maxSize, info)
	}
}

func TestUploadRoundTrip(t *testing.T) {
	s := startUpload(t)
	romeo := s.Login("romeo", "r-secret", "phone")
	content := make([]byte, 100_000)
	rand.Read(content)

	name := "balcony photo ü;1.jpg"
	put, get := slotURLs(t, requestSlot(romeo, name, int64(len(content)), "image/jpeg"))
	getURL, err := url.Parse(get)
	if err != nil {
		t.Fatalf("GET URL %q: %v", get, err)
	}
	if getURL.Host != s.Addr("http") {
		t.Errorf("GET URL host = %q, want the HTTP listener %s", getURL.Host, s.Addr("http"))
	}
	if !strings.HasPrefix(put, get+"?") {
		t.Errorf("PUT URL %q does not extend the GET URL %q", put, get)
	}

	if resp, _ := httpDo(t, "GET", get, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET before the upload: %s, want 404", resp.Status)
	}
	if resp, body := httpDo(t, "PUT", get, "image/jpeg", content); resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT to the GET URL without the token: %s %s, want 403", resp.Status, body)
	}
	resp, body := httpDo(t, "PUT", put, "image/jpeg", content)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %s %s", resp.Status, body)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("PUT response lacks CORS headers: %v", resp.Header)
	}

	resp, body = httpDo(t, "GET", get, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %s", resp.Status)
	}
	if !bytes.Equal(body, content) {
		t.Errorf("GET returned %d bytes that differ from the %d uploaded", len(body), len(content))
	}
	wantHeaders := map[string]string{
		"Content-Type":                "image/jpeg",
		"Content-Length":              fmt.Sprint(len(content)),
		"Content-Disposition":         "inline; filename*=utf-8''balcony%20photo%20%C3%BC%3B1.jpg",
		"X-Content-Type-Options":      "nosniff",
		"Content-Security-Policy":     "default-src 'none'; frame-ancestors 'none'; sandbox",
		"Access-Control-Allow-Origin": "*",
	}
	for k, want := range wantHeaders {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("GET %s = %q, want %q", k, got, want)
		}
	}

	resp, body = httpDo(t, "HEAD", get, "", nil)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != int64(len(content)) {
		t.Errorf("HEAD: %s, %d body bytes, Content-Length %d", resp.Status, len(body), resp.ContentLength)
	}
	resp, _ = httpDo(t, "OPTIONS", put, "", nil)
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Errorf("OPTIONS: %s, %v", resp.Status, resp.Header)
	}

	if resp, _ := httpDo(t, "PUT", put, "image/jpeg", content); resp.StatusCode != http.StatusConflict {
		t.Errorf("second PUT: %s, want 409", resp.Status)
	}
	other := strings.Replace(get, url.PathEscape(name), "other.jpg", 1)
	if resp, _ := httpDo(t, "GET", other, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET with another file name: %s, want 404", resp.Status)
	}

	// Files survive a restart, on the new port of the listener.
	s2 := s.Restart()
	getURL.Host = s2.Addr("http")
	resp, body = httpDo(t, "GET", getURL.String(), "", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
		t.Errorf("GET after restart: %s, %d bytes", resp.Status, len(body))
	}
}

func TestUploadPutMismatch(t *testing.T) {
	s := startUpload(t)
	romeo := s.Login("romeo", "r-secret", "phone")
	put, get := slotURLs(t, requestSlot(romeo, "notes.txt", 10, "text/plain"))

	cases := []struct {
		name        string
		contentType string
		body        string
		want        int
	}{
		{"shorter body", "text/plain", "123456789", http.StatusBadRequest},
		{"longer body", "text/plain", "12345678901", http.StatusRequestEntityTooLarge},
		{"other type", "text/html", "1234567890", http.StatusBadRequest},
	}
	for _, tc := range cases {
		if resp, body := httpDo(t, "PUT", put, tc.contentType, []byte(tc.body)); resp.StatusCode != tc.want {
			t.Errorf("%s: %s %s, want %d", tc.name, resp.Status, body, tc.want)
		}
	}
	// The failed attempts leave the slot usable.
	if resp, body := httpDo(t, "PUT", put, "text/plain", []byte("1234567890")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT after failed attempts: %s %s", resp.Status, body)
	}
	resp, body := httpDo(t, "GET", get, "", nil)
	if resp.StatusCode != http.StatusOK || string(body) != "1234567890" {
		t.Errorf("GET: %s %q", resp.Status, body)
	}
	if got := resp.Header.Get("Content-Disposition"); got != "attachment; filename=notes.txt" {
		t.Errorf("Content-Disposition = %q, want an attachment", got)
	}
}

func TestUploadSlotErrors(t *testing.T) {
	s := startUpload(t, func(c *config.Config) {
		c.Upload.MaxFileSize = 1000
		c.Upload.QuotaPerUser = 1500
	})
	romeo := s.Login("romeo", "r-secret", "phone")

	resp := requestSlot(romeo, "big.bin", 1001, "application/octet-stream")
	if got := xmpptest.ErrorCondition(resp); got != "not-acceptable" {
		t.Errorf("too large: %s, want not-acceptable", resp)
	}
	tooLarge := resp.Child("", "error").Child(nsUpload, "file-too-large")
	if tooLarge == nil || tooLarge.Child(nsUpload, "max-file-size").Text() != "1000" {
		t.Errorf("too large: no <file-too-large><max-file-size>1000: %s", resp)
	}

	badRequests := []struct {
		name, filename, size string
	}{
		{"traversal", "../../etc/passwd", "10"},
		{"slash", "a/b.txt", "10"},
		{"empty name", "", "10"},
		{"negative size", "a.txt", "-1"},
		{"size not a number", "a.txt", "ten"},
	}
	for i, tc := range badRequests {
		id := fmt.Sprintf("bad%d", i)
		resp := romeo.Request(fmt.Sprintf("<iq type='get' id='%s' to='%s'><request xmlns='%s' filename='%s' size='%s'/></iq>",
			id, uploadService, nsUpload, xmpptest.Escape(tc.filename), tc.size), id)
		if got := xmpptest.ErrorCondition(resp); got != "bad-request" {
			t.Errorf("%s: %s, want bad-request", tc.name, resp)
		}
	}

	slotURLs(t, requestSlot(romeo, "a.bin", 1000, "application/octet-stream"))
	resp = requestSlot(romeo, "b.bin", 600, "application/octet-stream")
	if got := xmpptest.ErrorCondition(resp); got != "resource-constraint" {
		t.Errorf("beyond the quota: %s, want resource-constraint", resp)
	}
	slotURLs(t, requestSlot(romeo, "c.bin", 500, "application/octet-stream"))
}

func TestUploadRejectsOtherRequesters(t *testing.T) {
	s := startUpload(t, func(c *config.Config) {
		c.Server.Domains = []string{"localhost", "capulet.localhost"}
		c.Component.Services = append(c.Component.Services,
			config.ComponentService{Domain: echoDomain, Secret: echoSecret})
	})
	s.AddUserAt("capulet.localhost", "juliet", "j-secret")
	juliet := loginAtDomain(t, s, "capulet.localhost", "juliet", "j-secret", "balcony")
	resp := requestSlot(juliet, "a.txt", 10, "text/plain")
	if got := xmpptest.ErrorCondition(resp); got != "not-allowed" {
		t.Errorf("account of another domain: %s, want not-allowed", resp)
	}
	// Her own domain's service accepts her.
	id := "own"
	resp = juliet.Request(fmt.Sprintf("<iq type='get' id='%s' to='upload.capulet.localhost'><request xmlns='%s' filename='a.txt' size='10'/></iq>", id, nsUpload), id)
	slotURLs(t, resp)

	comp := componenttest.Connect(t, s.Addr("component"), echoDomain, echoSecret)
	comp.Sendf("<iq type='get' id='c1' from='%s' to='%s'><request xmlns='%s' filename='a.txt' size='10'/></iq>", echoDomain, uploadService, nsUpload)
	resp = comp.Expect(xmpptest.IsResponse("c1"))
	if got := xmpptest.ErrorCondition(resp); got != "not-allowed" {
		t.Errorf("component: %s, want not-allowed", resp)
	}
}

func TestUploadDisabled(t *testing.T) {
	s := startUpload(t, func(c *config.Config) { c.Upload.Enabled = false })
	romeo := s.Login("romeo", "r-secret", "phone")
	resp := requestSlot(romeo, "a.txt", 10, "text/plain")
	if resp.Type != "error" {
		t.Errorf("slot request with upload disabled: %s, want an error", resp)
	}
}

// TestUploadSlixmpp uploads with slixmpp's xep_0363 plugin, which
// requests the slot, honours max-file-size and PUTs with aiohttp.
func TestUploadSlixmpp(t *testing.T) {
	requireSlixmppUpload(t)
	s := startUpload(t, func(c *config.Config) { c.Upload.MaxFileSize = 64 * config.KiB })
	dir := t.TempDir()
	small := make([]byte, 50_000)
	rand.Read(small)
	smallPath := filepath.Join(dir, "balcony scene.png")
	largePath := filepath.Join(dir, "large.png")
	if err := os.WriteFile(smallPath, small, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(largePath, make([]byte, 64*1024+1), 0o600); err != nil {
		t.Fatal(err)
	}

	host, port, _ := net.SplitHostPort(s.Addr("c2s"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, "testdata/slixmpp_upload.py", host, port, smallPath, largePath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("slixmpp upload: %v\n%s", err, stderr.String())
	}
	var got struct {
		Service     string `json:"service"`
		MaxFileSize int64  `json:"max_file_size"`
		URL         string `json:"url"`
		TooBig      bool   `json:"too_big"`
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("slixmpp output %q: %v\n%s", stdout.String(), err, stderr.String())
	}
	if got.Service != uploadService {
		t.Errorf("service found by slixmpp = %q, want %s", got.Service, uploadService)
	}
	if got.MaxFileSize != 64*1024 {
		t.Errorf("max-file-size read by slixmpp = %d, want %d", got.MaxFileSize, 64*1024)
	}
	if !got.TooBig {
		t.Errorf("slixmpp uploaded a file larger than max-file-size")
	}
	resp, body := httpDo(t, "GET", got.URL, "", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, small) {
		t.Errorf("GET %s: %s, %d bytes, want the %d uploaded", got.URL, resp.Status, len(body), len(small))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type = %q, want image/png", ct)
	}
}

// requireSlixmppUpload skips unless slixmpp and aiohttp, which its
// xep_0363 plugin imports, are installed. Under CI their absence fails.
func requireSlixmppUpload(t *testing.T) {
	t.Helper()
	requireSlixmpp(t)
	err := exec.Command(systemPython, "-c", "import aiohttp").Run()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("python3-aiohttp is not installed (run make deps): %v", err)
	}
	t.Skipf("python3-aiohttp is not installed (run make deps): %v", err)
}
