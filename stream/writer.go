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
// stanzas to a pending buffer and never block on the network; the writer
// goroutine (Run) writes everything pending in one call.
type Writer struct {
	dst          io.Writer
	ns           string
	maxQueue     int
	writeTimeout time.Duration
	deadline     func(time.Time) error

	framed bool

	mu      sync.Mutex
	pending []byte   // guarded by mu
	bounds  []int    // end offset of each element in pending when framed; guarded by mu
	queued  int      // stanzas in pending; guarded by mu
	closed  bool     // guarded by mu
	final   [][]byte // written after pending when closed; guarded by mu
	wake    chan struct{}
	done    chan struct{}
	err     error // set by Run before done is closed
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
}

// NewWriter returns a writer to dst. Run must be called to start writing.
func NewWriter(dst io.Writer, cfg WriterConfig) *Writer {
	return &Writer{
		dst:          dst,
		ns:           cfg.NS,
		maxQueue:     cfg.MaxQueue,
		writeTimeout: cfg.WriteTimeout,
		deadline:     cfg.SetDeadline,
		framed:       cfg.Framed,
		wake:         make(chan struct{}, 1),
		done:         make(chan struct{}),
	}
}

// SendStanza queues s for writing. It never blocks on the network.
func (w *Writer) SendStanza(s *stanza.Stanza) error {
	w.mu.Lock()
	if err := w.checkLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	w.pending = s.AppendXML(w.pending, w.ns)
	w.mark()
	w.queued++
	w.mu.Unlock()
	w.signal()
	return nil
}

// SendRaw queues already serialized bytes, such as a stream management
// element, counted as one queue entry.
func (w *Writer) SendRaw(b []byte) error {
	w.mu.Lock()
	if err := w.checkLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	w.pending = append(w.pending, b...)
	w.mark()
	w.queued++
	w.mu.Unlock()
	w.signal()
	return nil
}

// mark records the end of the element just appended; w.mu is held.
func (w *Writer) mark() {
	if w.framed {
		w.bounds = append(w.bounds, len(w.pending))
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

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close writes what is pending followed by final (for example a stream
// error and the closing tag, each its own element when framed), then stops
// Run. Later sends fail.
func (w *Writer) Close(final ...[]byte) {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		w.final = final
	}
	w.mu.Unlock()
	w.signal()
}

// Done is closed when Run has returned.
func (w *Writer) Done() <-chan struct{} { return w.done }

// Err returns the error that stopped Run, after Done is closed.
func (w *Writer) Err() error { return w.err }

// Run writes queued data until Close or a write error. It returns the
// write error, or nil after a clean Close.
func (w *Writer) Run() error {
	defer close(w.done)
	var spare []byte
	var spareBounds []int
	for range w.wake {
		w.mu.Lock()
		buf, bounds := w.pending, w.bounds
		w.pending, w.bounds = spare[:0], spareBounds[:0]
		w.queued = 0
		closed := w.closed
		if closed {
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
				w.fail()
				w.err = err
				return err
			}
		}
		if closed {
			return nil
		}
		// Keep one small buffer for the next batch; large ones go back to
		// the allocator so idle sessions hold little memory.
		if cap(buf) <= 4096 {
			spare, spareBounds = buf, bounds
		} else {
			spare, spareBounds = nil, nil
		}
	}
	return nil
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

func (w *Writer) write(b []byte) error {
	if w.deadline != nil && w.writeTimeout > 0 {
		w.deadline(time.Now().Add(w.writeTimeout))
	}
	_, err := w.dst.Write(b)
	return err
}

// fail marks the writer closed after a write error.
func (w *Writer) fail() {
	w.mu.Lock()
	w.closed = true
	w.pending = nil
	w.mu.Unlock()
}
