package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// cutProxy forwards TCP connections to a server and can reset all of
// them at once, as a phone that loses its network.
type cutProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []*net.TCPConn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, target: target}
	t.Cleanup(func() { l.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c.(*net.TCPConn), s.(*net.TCPConn))
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() { io.Copy(c, s); c.Close() }()
	}
}

// cut resets every forwarded connection in both directions.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.SetLinger(0)
		c.Close()
	}
	p.conns = nil
}

type smEvent struct {
	Event string `json:"event"`
	Body  string `json:"body"`
}

func TestSlixmppStreamManagementResume(t *testing.T) {
	requireSlixmpp(t)
	s := newPair(t)
	proxy := newCutProxy(t, s.Addr("c2s"))
	host, port, _ := net.SplitHostPort(proxy.l.Addr().String())

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, "testdata/slixmpp_sm.py", host, port)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
	}()
	events := make(chan smEvent, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev smEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
		close(events)
	}()
	wait := func(name string) []smEvent {
		var seen []smEvent
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("slixmpp exited before %q; stderr:\n%s", name, stderr.String())
				}
				seen = append(seen, ev)
				if ev.Event == name {
					return seen
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no %q from slixmpp; stderr:\n%s", name, stderr.String())
			}
		}
	}
	wait("ready")
	j := s.Login("juliet", "j-secret", "balcony")
	for i := 1; i <= 5; i++ {
		j.Sendf("<message to='romeo@localhost/phone' type='chat'><body>m%d</body></message>", i)
	}
	j.Barrier()
	proxy.cut()
	waitDetached(t, s, "romeo@localhost/phone")
	for i := 6; i <= 10; i++ {
		j.Sendf("<message to='romeo@localhost/phone' type='chat'><body>m%d</body></message>", i)
	}
	j.Barrier()
	seen := wait("resumed")
	j.Send("<message to='romeo@localhost/phone' type='chat'><body>done</body></message>")
	for ev := range events {
		seen = append(seen, ev)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("slixmpp: %v\n%s", err, stderr.String())
	}
	count := map[string]int{}
	for _, ev := range seen {
		if ev.Event == "message" {
			count[ev.Body]++
		}
	}
	for i := 1; i <= 10; i++ {
		if n := count[fmt.Sprintf("m%d", i)]; n != 1 {
			t.Errorf("m%d arrived %d times, want exactly once", i, n)
		}
	}
	for _, el := range j.Sync() {
		if el.Type == "error" {
			t.Errorf("sender got an error: %s", el)
		}
	}
}

// syncBuffer is a bytes buffer safe for a child process's writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
