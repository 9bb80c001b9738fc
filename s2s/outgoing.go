package s2s

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"tern/stanza"
	"tern/stream"
)

// errShutdown ends streams that are being set up when the server stops.
var errShutdown = errors.New("s2s: server shutting down")

// maxPending is how many stanzas may wait for an outgoing stream that is
// still being set up, and how many may wait in its writer afterwards.
const maxPending = 1000

// outKey identifies an outgoing stream: the local domain it speaks for and
// the remote domain it goes to.
type outKey struct{ local, remote string }

type outState int

const (
	outConnecting outState = iota
	outReady
	outClosed
)

// outStream is one outgoing stream of the pool. While it connects, sent
// stanzas wait in queue; once authenticated they go to a batching writer.
type outStream struct {
	srv *Server
	key outKey
	log *slog.Logger

	mu      sync.Mutex
	state   outState         // guarded by mu
	queue   []*stanza.Stanza // guarded by mu; while connecting
	w       *stream.Writer   // guarded by mu; once ready
	conn    net.Conn         // guarded by mu; once ready
	lastUse time.Time        // guarded by mu
}

// Send queues s for the remote domain of its 'to' on the outgoing stream
// from the domain of its 'from', opening the stream first if needed. It
// never blocks on the network. It implements router.Remote; an error is a
// *stanza.Error that the router bounces.
func (s *Server) Send(ctx context.Context, st *stanza.Stanza) error {
	key := outKey{local: st.From.Domainpart(), remote: st.To.Domainpart()}
	if !s.serves(key.local) {
		return stanza.NotAllowed.WithText("the sender's domain is not served here")
	}
	if key.remote == "" || s.serves(key.remote) {
		return stanza.ItemNotFound
	}
	for {
		o := s.outStream(key)
		if o == nil {
			return stanza.RemoteServerTimeout.WithText("the server is shutting down")
		}
		accepted, err := o.enqueue(st)
		if accepted {
			return err
		}
		s.removeOut(o)
	}
}

// outStream returns the stream for key, starting a new one if there is
// none. It returns nil after Shutdown.
func (s *Server) outStream(key outKey) *outStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	if o := s.out[key]; o != nil {
		return o
	}
	o := &outStream{
		srv:     s,
		key:     key,
		log:     s.log.With("local", key.local, "remote", key.remote, "dir", "out"),
		lastUse: time.Now(),
	}
	s.out[key] = o
	s.wg.Add(1)
	go o.run()
	return o
}

func (s *Server) removeOut(o *outStream) {
	s.mu.Lock()
	if s.out[o.key] == o {
		delete(s.out, o.key)
	}
	s.mu.Unlock()
}

// enqueue adds st to the queue or the writer. It reports false when the
// stream has closed, so the caller should use a new one.
func (o *outStream) enqueue(st *stanza.Stanza) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch o.state {
	case outClosed:
		return false, nil
	case outConnecting:
		if len(o.queue) >= maxPending {
			return true, stanza.ResourceConstraint.WithText("too many stanzas wait for the remote server")
		}
		o.queue = append(o.queue, st)
	case outReady:
		err := o.w.SendStanza(st)
		if errors.Is(err, stream.ErrWriterClosed) {
			o.state = outClosed
			return false, nil
		}
		if errors.Is(err, stream.ErrQueueFull) {
			return true, stanza.ResourceConstraint.WithText("the remote server reads too slowly")
		}
	}
	o.lastUse = time.Now()
	return true, nil
}

// run connects, authenticates, and then serves the stream until it ends.
func (o *outStream) run() {
	defer o.srv.wg.Done()
	defer o.srv.removeOut(o)
	ctx, cancel := context.WithTimeout(o.srv.ctx, negotiateTimeout)
	l, method, err := o.negotiate(ctx)
	cancel()
	if err != nil {
		o.fail(err)
		return
	}
	o.log.Info("outgoing stream established", "auth", method, "tls", l.secure, "peer_cert_verified", l.peerVerified)
	if !o.ready(l) {
		l.raw.Close()
		o.fail(errShutdown)
		return
	}
	stopIdle := o.watchIdle()
	err = o.readLoop(l)
	stopIdle()
	o.end(err)
}

func (o *outStream) negotiate(ctx context.Context) (*link, string, error) {
	l, err := o.srv.connect(ctx, o.key.local, o.key.remote)
	if err != nil {
		return nil, "", err
	}
	method, err := l.authenticate()
	if err == nil && !l.established() {
		err = fmt.Errorf("s2s: stream to %s: %w", o.key.remote, context.DeadlineExceeded)
	}
	if err != nil {
		l.unwatch()
		l.raw.Close()
		return nil, "", err
	}
	return l, method, nil
}

// ready starts the writer and hands it the queued stanzas. It reports
// false if the stream was shut down meanwhile.
func (o *outStream) ready(l *link) bool {
	w := stream.NewWriter(l.nc, stream.WriterConfig{
		NS:           stanza.NSServer,
		MaxQueue:     maxPending,
		WriteTimeout: writeTimeout,
		SetDeadline:  l.nc.SetWriteDeadline,
	})
	go w.Run()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state == outClosed {
		w.Close(nil)
		return false
	}
	for _, st := range o.queue {
		w.SendStanza(st)
	}
	o.queue = nil
	o.w = w
	o.conn = l.raw
	o.state = outReady
	return true
}

// readLoop reads what the peer sends on the outgoing stream: whitespace
// keepalives and, at the end, the closing tag or a stream error. A stanza
// is a protocol violation, since streams carry stanzas one way.
func (o *outStream) readLoop(l *link) error {
	for {
		el, err := l.rd.Next()
		if err != nil {
			return err
		}
		if el.Space == stream.NS && el.Name == "error" {
			return fmt.Errorf("s2s: %s sent stream error %s", o.key.remote, streamErrorCondition(el))
		}
		if el.Space == stanza.NSServer {
			return stream.UnsupportedStanzaType.WithText("this stream carries stanzas from the initiating server only")
		}
	}
}

// fail ends a stream that could not be set up, bouncing what waits for it.
func (o *outStream) fail(err error) {
	o.mu.Lock()
	o.state = outClosed
	queue := o.queue
	o.queue = nil
	o.mu.Unlock()
	o.srv.removeOut(o)
	o.log.Info("outgoing stream failed", "err", err, "bounced", len(queue))
	se := stanza.RemoteServerTimeout
	var ce *connectError
	if errors.As(err, &ce) {
		se = stanza.RemoteServerNotFound
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, st := range queue {
		o.srv.router.Bounce(ctx, st, se)
	}
}

// end closes an established stream after its reader stopped.
func (o *outStream) end(err error) {
	o.srv.removeOut(o)
	var final []byte
	if se := stream.AsError(err); se != nil {
		final = se.AppendXML(final)
	}
	o.closeWriter(append(final, stream.Close...))
	switch {
	case err == nil, errors.Is(err, stream.ErrClosed), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		o.log.Debug("outgoing stream closed")
	default:
		o.log.Info("outgoing stream ended", "err", err)
	}
}

// closeWriter marks the stream closed, writes what is queued followed by
// final, and closes the connection once written or after a timeout.
func (o *outStream) closeWriter(final []byte) {
	o.mu.Lock()
	prev := o.state
	o.state = outClosed
	w, conn := o.w, o.conn
	o.mu.Unlock()
	if prev != outReady {
		return
	}
	w.Close(final)
	select {
	case <-w.Done():
	case <-time.After(writeTimeout):
	}
	conn.Close()
}

// shutdown ends the stream with err: an established one after writing
// what is queued, one being set up by cancelling it (Server.ctx).
func (o *outStream) shutdown(err *stream.Error) {
	o.srv.removeOut(o)
	o.closeWriter(append(err.AppendXML(nil), stream.Close...))
}

// watchIdle closes the stream once nothing was sent on it for the idle
// timeout. It returns a function that stops watching.
func (o *outStream) watchIdle() func() {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		o.mu.Lock()
		idle := time.Since(o.lastUse)
		o.mu.Unlock()
		timeout := o.srv.idleTimeout()
		if idle < timeout {
			t.Reset(timeout - idle)
			return
		}
		o.log.Debug("closing idle outgoing stream", "idle", idle)
		o.srv.removeOut(o)
		go o.closeWriter([]byte(stream.Close))
	}
	mu.Lock()
	t = time.AfterFunc(o.srv.idleTimeout(), check)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}
