// Package netserve runs accept loops and keeps track of a server's
// listeners and live connections, so that shutting down can stop
// accepting, reach every open connection and wait for them to end.
package netserve

import (
	"context"
	"errors"
	"net"
	"sync"
)

// Tracker tracks the listeners and connections of one server. C is the
// server's connection type. The zero value is ready to use.
type Tracker[C comparable] struct {
	mu        sync.Mutex
	listeners map[net.Listener]bool // guarded by mu
	conns     map[C]bool            // guarded by mu
	closing   bool                  // guarded by mu
	wg        sync.WaitGroup
}

// Serve accepts connections on l until Close, wraps each with newConn and
// runs it with run on its own goroutine. It returns nil after Close and
// the accept error otherwise.
func (t *Tracker[C]) Serve(l net.Listener, newConn func(net.Conn) C, run func(C)) error {
	if !t.addListener(l) {
		return net.ErrClosed
	}
	defer t.removeListener(l)
	for {
		nc, err := l.Accept()
		if err != nil {
			if t.Closing() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		c := newConn(nc)
		if !t.Go(c, run) {
			nc.Close()
		}
	}
}

// Go runs run(c) on a new goroutine and tracks c until it returns. It
// returns false, running nothing, once Close has been called.
func (t *Tracker[C]) Go(c C, run func(C)) bool {
	if !t.add(c) {
		return false
	}
	go func() {
		defer t.remove(c)
		run(c)
	}()
	return true
}

// Run runs run(c) on the calling goroutine, tracked like Go. It returns
// false, running nothing, once Close has been called.
func (t *Tracker[C]) Run(c C, run func(C)) bool {
	if !t.add(c) {
		return false
	}
	defer t.remove(c)
	run(c)
	return true
}

func (t *Tracker[C]) add(c C) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	if t.conns == nil {
		t.conns = make(map[C]bool)
	}
	t.conns[c] = true
	t.wg.Add(1)
	return true
}

func (t *Tracker[C]) remove(c C) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	t.wg.Done()
}

func (t *Tracker[C]) addListener(l net.Listener) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	if t.listeners == nil {
		t.listeners = make(map[net.Listener]bool)
	}
	t.listeners[l] = true
	return true
}

func (t *Tracker[C]) removeListener(l net.Listener) {
	t.mu.Lock()
	delete(t.listeners, l)
	t.mu.Unlock()
}

// Closing reports whether Close has been called.
func (t *Tracker[C]) Closing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

// Close stops accepting: it closes every listener, makes later Go and Run
// calls fail, and returns the connections open at that moment so the
// caller can end them.
func (t *Tracker[C]) Close() []C {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for l := range t.listeners {
		l.Close()
	}
	conns := make([]C, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	return conns
}

// Wait waits until every tracked connection has ended or ctx ends.
func (t *Tracker[C]) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Len returns the number of tracked connections.
func (t *Tracker[C]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}
