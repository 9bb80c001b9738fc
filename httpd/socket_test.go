package httpd

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shortTempDir returns a new directory with a path short enough for Unix
// sockets whatever the test's name.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestListenSocketModeAndRemove(t *testing.T) {
	path := filepath.Join(shortTempDir(t), SocketName)
	l, err := listenSocket(path)
	if err != nil {
		t.Fatalf("listenSocket: %v", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("stat socket: %v", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		t.Errorf("%s has type %v, want a socket", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("socket mode = %o, want 600", perm)
	}

	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial socket: %v", err)
	}
	c.Close()
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory has %d entries after listenSocket, want only the socket", len(entries))
	}

	if err := l.remove(); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file after remove: %v, want it gone", err)
	}
}

func TestListenSocketReplacesStale(t *testing.T) {
	path := filepath.Join(shortTempDir(t), SocketName)
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close() // leaves the file behind, as a crashed server does
	l, err := listenSocket(path)
	if err != nil {
		t.Fatalf("listenSocket over a stale socket: %v", err)
	}
	l.remove()
}

func TestListenSocketRefusesLiveOrOtherFile(t *testing.T) {
	dir := shortTempDir(t)
	live := filepath.Join(dir, "live.sock")
	other, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := listenSocket(live); err == nil || !strings.Contains(err.Error(), "another process serves") {
		t.Errorf("listenSocket on a live socket = %v, want an error naming another process", err)
	}
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := listenSocket(regular); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("listenSocket on a regular file = %v, want a not-a-socket error", err)
	}
	if data, _ := os.ReadFile(regular); string(data) != "x" {
		t.Error("listenSocket changed a regular file")
	}
}

func TestListenSocketPathTooLong(t *testing.T) {
	dir := filepath.Join(shortTempDir(t), strings.Repeat("d", 100))
	_, err := listenSocket(filepath.Join(dir, SocketName))
	if err == nil || !strings.Contains(err.Error(), "shorter server.data_dir") {
		t.Errorf("listenSocket with a long path = %v, want an error naming server.data_dir", err)
	}
}
