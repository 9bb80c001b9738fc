package stream

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// recorder is a destination that records each Write call.
type recorder struct {
	mu     sync.Mutex
	writes [][]byte
	err    error
	gate   chan struct{} // when set, each Write waits for a value
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, bytes.Clone(b))
	if r.err != nil {
		return 0, r.err
	}
	return len(b), nil
}

func (r *recorder) joined() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(bytes.Join(r.writes, nil))
}

// waitDone fails t unless w finishes within a few seconds.
func waitDone(t *testing.T, w *Writer) {
	t.Helper()
	select {
	case <-w.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("writer did not finish")
	}
}

func TestWriterOnDemand(t *testing.T) {
	dst := &recorder{}
	w := NewWriter(dst, WriterConfig{MaxQueue: 10})
	w.Start()
	if err := w.SendStanza(stanza.New(stanza.Message, "chat", jidOf(t, "a@b"), jidOf(t, "c@d/e"))); err != nil {
		t.Fatal(err)
	}
	if err := w.SendRaw([]byte("<r xmlns='urn:xmpp:sm:3'/>")); err != nil {
		t.Fatal(err)
	}
	w.Close([]byte("</stream:stream>"))
	waitDone(t, w)
	want := "<message to='a@b' from='c@d/e' type='chat'/><r xmlns='urn:xmpp:sm:3'/></stream:stream>"
	if got := dst.joined(); got != want {
		t.Errorf("written %q, want %q", got, want)
	}
	if err := w.Err(); err != nil {
		t.Errorf("Err() = %v after a clean close", err)
	}
	if err := w.SendRaw([]byte("<x/>")); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("send after close: %v, want ErrWriterClosed", err)
	}
}

func TestWriterGoroutineExitsWhenIdle(t *testing.T) {
	dst := &recorder{}
	w := NewWriter(dst, WriterConfig{})
	w.Start()
	for i := 0; i < 3; i++ {
		if err := w.SendRaw([]byte("<x/>")); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			w.mu.Lock()
			running, pending := w.running, w.pending
			w.mu.Unlock()
			if !running {
				if pending != nil {
					t.Fatalf("idle writer keeps a %d-byte buffer", cap(pending))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("writer goroutine still running with nothing pending")
			}
			runtime.Gosched()
		}
	}
	if got := dst.joined(); got != "<x/><x/><x/>" {
		t.Errorf("written %q", got)
	}
}

func TestWriterQueueFull(t *testing.T) {
	dst := &recorder{gate: make(chan struct{})}
	w := NewWriter(dst, WriterConfig{MaxQueue: 2})
	w.Start()
	// The first element is taken by the goroutine, which then blocks in
	// Write; two more fill the queue.
	if err := w.SendRaw([]byte("<a/>")); err != nil {
		t.Fatal(err)
	}
	for {
		w.mu.Lock()
		taken := w.pending == nil
		w.mu.Unlock()
		if taken {
			break
		}
		runtime.Gosched()
	}
	for _, el := range []string{"<b/>", "<c/>"} {
		if err := w.SendRaw([]byte(el)); err != nil {
			t.Fatalf("send %s: %v", el, err)
		}
	}
	if err := w.SendRaw([]byte("<d/>")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third queued send: %v, want ErrQueueFull", err)
	}
	w.Close()
	close(dst.gate)
	waitDone(t, w)
	if got := dst.joined(); got != "<a/><b/><c/>" {
		t.Errorf("written %q", got)
	}
}

func TestWriterError(t *testing.T) {
	failure := errors.New("broken pipe")
	dst := &recorder{err: failure}
	w := NewWriter(dst, WriterConfig{})
	w.Start()
	if err := w.SendRaw([]byte("<a/>")); err != nil {
		t.Fatal(err)
	}
	waitDone(t, w)
	if !errors.Is(w.Err(), failure) {
		t.Errorf("Err() = %v, want %v", w.Err(), failure)
	}
	if err := w.SendRaw([]byte("<b/>")); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("send after a write error: %v", err)
	}
	w.Close([]byte("</stream:stream>")) // must not panic or write
}

func TestWriterOnFail(t *testing.T) {
	failure := errors.New("i/o timeout")
	failed := make(chan error, 2)
	w := NewWriter(&recorder{err: failure}, WriterConfig{OnFail: func(err error) { failed <- err }})
	w.Start()
	if err := w.SendRaw([]byte("<a/>")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if !errors.Is(err, failure) {
			t.Errorf("OnFail got %v, want %v", err, failure)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnFail not called within 5 s of a failed write")
	}
	w.SendRaw([]byte("<b/>"))
	w.Close()
	select {
	case err := <-failed:
		t.Errorf("OnFail called again with %v", err)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestWriterFramed(t *testing.T) {
	dst := &recorder{}
	w := NewWriter(dst, WriterConfig{Framed: true})
	w.SendRaw([]byte("<a/>"))
	w.SendRaw([]byte("<b/>"))
	w.Close([]byte("<close/>"))
	w.Start()
	waitDone(t, w)
	want := []string{"<a/>", "<b/>", "<close/>"}
	if len(dst.writes) != len(want) {
		t.Fatalf("writes %q, want %q", dst.writes, want)
	}
	for i, el := range want {
		if string(dst.writes[i]) != el {
			t.Errorf("write %d: %q, want %q", i, dst.writes[i], el)
		}
	}
}

func TestWriterRun(t *testing.T) {
	dst := &recorder{}
	w := NewWriter(dst, WriterConfig{})
	result := make(chan error, 1)
	go func() { result <- w.Run() }()
	w.SendRaw([]byte("<a/>"))
	w.Close([]byte("</stream:stream>"))
	if err := <-result; err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitDone(t, w)
	if got := dst.joined(); got != "<a/></stream:stream>" {
		t.Errorf("written %q", got)
	}
}

func jidOf(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestWriterTryWrite(t *testing.T) {
	cases := []struct {
		name  string
		takes int // bytes each TryWrite call takes; -1 for all
	}{
		{"all at once", -1},
		{"partial", 3},
		{"nothing", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := &recorder{}
			var tried []string
			try := func(b []byte) (int, error) {
				n := len(b)
				if tc.takes >= 0 {
					n = min(n, tc.takes)
				}
				tried = append(tried, string(b[:n]))
				dst.Write(b[:n])
				return n, nil
			}
			w := NewWriter(dst, WriterConfig{TryWrite: try})
			w.Start()
			if err := w.SendRaw([]byte("<a/>")); err != nil {
				t.Fatal(err)
			}
			w.Close([]byte("</stream:stream>"))
			waitDone(t, w)
			if len(tried) != 1 {
				t.Errorf("TryWrite called %d times, want once", len(tried))
			}
			if got := dst.joined(); got != "<a/></stream:stream>" {
				t.Errorf("written %q", got)
			}
		})
	}
}

func TestWriterTryWriteError(t *testing.T) {
	failure := errors.New("connection reset")
	dst := &recorder{}
	w := NewWriter(dst, WriterConfig{TryWrite: func([]byte) (int, error) { return 0, failure }})
	w.Start()
	if err := w.SendRaw([]byte("<a/>")); err != nil {
		t.Fatal(err)
	}
	waitDone(t, w)
	if !errors.Is(w.Err(), failure) {
		t.Errorf("Err() = %v, want %v", w.Err(), failure)
	}
	if err := w.SendRaw([]byte("<b/>")); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("send after a failed write: %v", err)
	}
}

// TestWriterClearsDeadline checks that a write timeout bounds each write
// only: a deadline left set would expire while the connection idles and
// fail the next write, TryWrite included.
func TestWriterClearsDeadline(t *testing.T) {
	dst := &recorder{}
	var mu sync.Mutex
	var deadlines []time.Time
	setDeadline := func(d time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		deadlines = append(deadlines, d)
		return nil
	}
	w := NewWriter(dst, WriterConfig{WriteTimeout: time.Minute, SetDeadline: setDeadline})
	w.Start()
	if err := w.SendRaw([]byte("<a/>")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	waitDone(t, w)
	mu.Lock()
	defer mu.Unlock()
	if len(deadlines) != 2 {
		t.Fatalf("SetDeadline called with %v, want a deadline and then zero", deadlines)
	}
	if deadlines[0].IsZero() {
		t.Errorf("first deadline is zero, want now plus the timeout")
	}
	if !deadlines[1].IsZero() {
		t.Errorf("deadline left at %v after the write, want zero", deadlines[1])
	}
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int }

func (c *countingWriter) Write(b []byte) (int, error) { c.n += len(b); return len(b), nil }

// BenchmarkWriteStanza serializes and writes one chat message per
// iteration the way a session on plain TCP does: SendStanza writes from
// the sender's goroutine through TryWrite while nothing else is pending.
func BenchmarkWriteStanza(b *testing.B) {
	msg, err := ParseStanza([]byte(benchMessage))
	if err != nil {
		b.Fatal(err)
	}
	msg.From = jid.MustParse("romeo@localhost/orchard")
	dst := &countingWriter{}
	w := NewWriter(dst, WriterConfig{MaxQueue: 1000, TryWrite: dst.Write})
	w.Start()
	defer w.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.SendStanza(msg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if dst.n == 0 {
		b.Fatal("nothing was written")
	}
	b.SetBytes(int64(dst.n / b.N))
}
