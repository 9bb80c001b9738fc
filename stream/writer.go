package stream

import (
	"errors"
	"io"
	"sync"
	"time"

	"tern/stanza"
)

// ErrQueueFull is returned by Writer.Send when the peer reads too slowly
// and the queue of unwritten stanzas has reached its bound.
var ErrQueueFull = errors.New("stream: send queue full")

// ErrWriterClosed is returned by Writer.Send after Close.
var ErrWriterClosed = errors.New("stream: writer closed")

// Writer is the single writer of one connection. Senders append serialized
// stanzas to a pending buffer and never block on the network; one
// goroutine writes everything pending in one call.
//
// The writing goroutine is either Run, which lives as long as the
// connection, or, after Start, one that the first Send after an idle
// period starts and that exits once nothing is pending. An idle Writer
// started with Start holds no goroutine and no buffer.
type Writer struct {
	dst          io.Writer
	ns           string
	maxQueue     int
	writeTimeout time.Duration
	deadline     func(time.Time) error
	framed       bool
	tryWrite     func([]byte) (int, error)
	onFail       func(error)

	mu       sync.Mutex
	pending  []byte        // guarded by mu
	bounds   []int         // end offset of each element in pending when framed; guarded by mu
	queued   int           // stanzas in pending; guarded by mu
	closed   bool          // guarded by mu
	final    [][]byte      // written after pending when closed; guarded by mu
	onDemand bool          // Start was called; guarded by mu
	running  bool          // the on-demand goroutine runs; guarded by mu
	finished bool          // final was taken for writing; guarded by mu
	stopped  bool          // the writer is done; guarded by mu
	wake     chan struct{} // wakes Run; made by Run, nil with Start; guarded by mu
	done     chan struct{} // made on first use; guarded by mu
	err      error         // set before stopped
}

// WriterConfig configures a Writer.
type WriterConfig struct {
	// NS is the default namespace of the stream, used when serializing
	// stanzas.
	NS string
	// MaxQueue is the number of stanzas that may wait before Send returns
	// ErrQueueFull.
	MaxQueue int
	// WriteTimeout bounds each write; SetDeadline is called before it
	// when non-nil.
	WriteTimeout time.Duration
	SetDeadline  func(time.Time) error
	// Framed writes each element with its own Write call, for transports
	// such as WebSocket where every message is one element (RFC 7395).
	Framed bool
	// TryWrite, when set, writes what the connection takes without
	// blocking and returns how much that was; it fails only when the
	// connection is broken. A Writer started with Start then writes from
	// the sender's goroutine while nothing else is pending, and starts
	// its goroutine only for what the connection did not take at once.
	TryWrite func(b []byte) (int, error)
	// OnFail, when set, is called once with the error of a failed write,
	// after the writer has stopped and dropped what was queued.
	OnFail func(err error)
}

// NewWriter returns a writer to dst. Run or Start must be called to
// start writing.
func NewWriter(dst io.Writer, cfg WriterConfig) *Writer {
	return &Writer{
		dst:          dst,
		ns:           cfg.NS,
		maxQueue:     cfg.MaxQueue,
		writeTimeout: cfg.WriteTimeout,
		deadline:     cfg.SetDeadline,
		framed:       cfg.Framed,
		tryWrite:     cfg.TryWrite,
		onFail:       cfg.OnFail,
	}
}

// SendStanza queues s for writing. It never blocks on the network.
func (w *Writer) SendStanza(s *stanza.Stanza) error {
	w.mu.Lock()
	if err := w.checkLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	w.pending = s.AppendXML(w.buffer(), w.ns)
	return w.queuedLocked()
}

// SendRaw queues already serialized bytes, such as a stream management
// element, counted as one queue entry.
func (w *Writer) SendRaw(b []byte) error {
	w.mu.Lock()
	if err := w.checkLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	w.pending = append(w.buffer(), b...)
	return w.queuedLocked()
}

// buffer returns pending, taking a pooled buffer when there is none;
// w.mu is held.
func (w *Writer) buffer() []byte {
	if w.pending == nil {
		return blocks.Get().(*[blockSize]byte)[:0]
	}
	return w.pending
}

// queuedLocked records the element just appended to pending, unlocks
// w.mu and makes sure a goroutine writes it.
func (w *Writer) queuedLocked() error {
	if w.framed {
		w.bounds = append(w.bounds, len(w.pending))
	}
	w.queued++
	start := w.onDemand && !w.running
	w.running = w.running || start
	if start && w.tryWrite != nil && !w.framed {
		w.writeInline()
		return nil
	}
	wake := w.wake
	w.mu.Unlock()
	w.kick(start, wake)
	return nil
}

// writeInline writes pending from the sender's goroutine with tryWrite,
// and starts the writing goroutine for what the connection did not take
// or other senders queued meanwhile. w.mu is held and running is set; it
// returns with w.mu unlocked.
func (w *Writer) writeInline() {
	buf := w.pending
	w.pending = nil
	w.queued = 0
	w.mu.Unlock()
	n, err := w.tryWrite(buf)
	if err != nil {
		w.fail(err)
		return
	}
	w.mu.Lock()
	if n < len(buf) {
		w.pending = append(buf[n:len(buf):len(buf)], w.pending...)
		w.queued++
	} else if cap(buf) == blockSize {
		blocks.Put((*[blockSize]byte)(buf[:blockSize]))
	}
	more := len(w.pending) > 0 || w.closed
	w.running = more
	w.mu.Unlock()
	if more {
		go w.drain()
	}
}

// kick starts the on-demand goroutine when start is set, and otherwise
// wakes Run, if it runs.
func (w *Writer) kick(start bool, wake chan struct{}) {
	if start {
		go w.drain()
		return
	}
	select {
	case wake <- struct{}{}:
	default:
	}
}

func (w *Writer) checkLocked() error {
	if w.closed {
		return ErrWriterClosed
	}
	if w.maxQueue > 0 && w.queued >= w.maxQueue {
		return ErrQueueFull
	}
	return nil
}

// Close writes what is pending followed by final (for example a stream
// error and the closing tag, each its own element when framed), then stops
// the writing goroutine. Later sends fail.
func (w *Writer) Close(final ...[]byte) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.final = final
	start := w.onDemand && !w.running
	w.running = w.running || start
	wake := w.wake
	w.mu.Unlock()
	w.kick(start, wake)
}

// Done is closed when the writer has written what Close asked for, or
// stopped after a write error.
func (w *Writer) Done() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done == nil {
		w.done = make(chan struct{})
		if w.stopped {
			close(w.done)
		}
	}
	return w.done
}

// stop records that the writer is done after err (nil after a clean
// Close) and closes done.
func (w *Writer) stop(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = err
	w.stopped = true
	if w.done != nil {
		close(w.done)
	}
}

// Err returns the error that stopped the writer, after Done is closed.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Run writes queued data until Close or a write error. It returns the
// write error, or nil after a clean Close. Use either Run or Start.
func (w *Writer) Run() error {
	w.mu.Lock()
	wake := make(chan struct{}, 1)
	w.wake = wake
	w.mu.Unlock()
	for w.flush() {
		<-wake
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Start makes the writer write from a goroutine that runs only while
// something is pending. Use either Run or Start.
func (w *Writer) Start() {
	w.mu.Lock()
	w.onDemand = true
	start := !w.running && (len(w.pending) > 0 || w.closed)
	w.running = w.running || start
	w.mu.Unlock()
	if start {
		go w.drain()
	}
}

// drain is the on-demand goroutine: it writes until nothing is pending.
func (w *Writer) drain() {
	for w.flush() {
		w.mu.Lock()
		idle := len(w.pending) == 0 && (!w.closed || w.finished)
		if idle {
			w.running = false
		}
		w.mu.Unlock()
		if idle {
			return
		}
	}
}

// flush writes what is pending, and the final elements once closed. It
// reports whether the writer goes on; when it does not, done is closed.
func (w *Writer) flush() bool {
	w.mu.Lock()
	buf, bounds := w.pending, w.bounds
	w.pending, w.bounds = nil, nil
	w.queued = 0
	closed := w.closed && !w.finished
	if closed {
		w.finished = true
		for _, f := range w.final {
			buf = append(buf, f...)
			if w.framed {
				bounds = append(bounds, len(buf))
			}
		}
	}
	w.mu.Unlock()
	if len(buf) > 0 {
		if err := w.writeAll(buf, bounds); err != nil {
			w.fail(err)
			return false
		}
	}
	if cap(buf) == blockSize {
		blocks.Put((*[blockSize]byte)(buf[:blockSize]))
	}
	if closed {
		w.stop(nil)
		return false
	}
	return true
}

// writeAll writes buf in one call, or one call per element when framed.
func (w *Writer) writeAll(buf []byte, bounds []int) error {
	if !w.framed {
		return w.write(buf)
	}
	start := 0
	for _, end := range bounds {
		if err := w.write(buf[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// write writes b within the write timeout. The deadline is cleared
// afterwards: it bounds this write only, and a deadline left in the past
// would make TryWrite fail on a healthy connection.
func (w *Writer) write(b []byte) error {
	if w.deadline != nil && w.writeTimeout > 0 {
		w.deadline(time.Now().Add(w.writeTimeout))
		defer w.deadline(time.Time{})
	}
	_, err := w.dst.Write(b)
	return err
}

// fail marks the writer closed after a write error and closes done.
func (w *Writer) fail(err error) {
	w.mu.Lock()
	w.closed = true
	w.finished = true
	w.pending = nil
	w.running = false
	w.mu.Unlock()
	w.stop(err)
	if w.onFail != nil {
		w.onFail(err)
	}
}
