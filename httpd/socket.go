package httpd

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// SocketName is the file name of the control socket in the data
// directory (server.data_dir).
const SocketName = "ternd.sock"

// maxSocketPath is the longest socket path Linux accepts: sun_path holds
// 108 bytes including the terminating NUL.
const maxSocketPath = 107

// ServeSocket creates a Unix socket at path with mode 0600 and serves the
// REST API on it without a token, in the background until Shutdown.
//
// A socket file left at path by a server that did not stop cleanly is
// replaced. ServeSocket fails when another process accepts connections on
// path, or when path exists and is not a socket.
func (s *Server) ServeSocket(path string) error {
	l, err := listenSocket(path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.remove()
		return errors.New("httpd: serve socket: server is shut down")
	}
	s.socket = l
	s.wg.Add(1)
	s.mu.Unlock()
	s.log.Info("listening", "kind", "control socket", "addr", path)
	go func() {
		defer s.wg.Done()
		if err := s.serve(l, requireCanonical(s.api)); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("control socket stopped", "path", path, "err", err)
		}
	}()
	return nil
}

// socketListener is a Unix listener whose file remove deletes, unless
// another file has replaced it.
type socketListener struct {
	*net.UnixListener
	path string
	file os.FileInfo // the socket file as created, to recognize it
}

// listenSocket creates the socket in a new private directory next to
// path, sets its mode, and only then links it to path, so the socket is
// never reachable with the default mode. The link fails if path exists.
func listenSocket(path string) (*socketListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("httpd: create directory for socket %s: %w", path, err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), ".s")
	if err != nil {
		return nil, fmt.Errorf("httpd: create socket %s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "s")
	for _, p := range []string{path, tmp} {
		if len(p) > maxSocketPath {
			return nil, fmt.Errorf("httpd: socket path %s is %d bytes long, over the limit of %d; use a shorter server.data_dir", p, len(p), maxSocketPath)
		}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("httpd: listen on socket %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false)
	sl := &socketListener{UnixListener: l, path: path}
	if err := sl.publish(tmp); err != nil {
		l.Close()
		return nil, err
	}
	return sl, nil
}

// publish makes the socket at tmp private and links it to l.path.
func (l *socketListener) publish(tmp string) error {
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("httpd: set mode of socket %s: %w", l.path, err)
	}
	if err := os.Link(tmp, l.path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("httpd: socket %s was created by another process meanwhile; is another ternd starting with the same server.data_dir?", l.path)
		}
		return fmt.Errorf("httpd: create socket %s: %w", l.path, err)
	}
	fi, err := os.Lstat(l.path)
	if err != nil {
		os.Remove(l.path)
		return fmt.Errorf("httpd: create socket %s: %w", l.path, err)
	}
	l.file = fi
	return nil
}

// remove closes the listener and deletes its socket file.
func (l *socketListener) remove() error {
	l.Close()
	fi, err := os.Lstat(l.path)
	if err != nil || !os.SameFile(fi, l.file) {
		return nil
	}
	return os.Remove(l.path)
}

// removeStale deletes a socket file at path that no process listens on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("httpd: check socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("httpd: %s exists and is not a socket; move it away", path)
	}
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("httpd: another process serves socket %s; is another ternd running with the same server.data_dir?", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("httpd: check socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("httpd: remove stale socket %s: %w", path, err)
	}
	return nil
}
