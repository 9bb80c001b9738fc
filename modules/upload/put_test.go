package upload

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestPutStalledBodyTimesOut: a PUT whose body stops arriving is cut off
// after its deadline instead of holding the connection, and the slot can
// be used again.
func TestPutStalledBodyTimesOut(t *testing.T) {
	defer func(grace time.Duration, rate int64) { putGrace, putMinRate = grace, rate }(putGrace, putMinRate)
	putGrace, putMinRate = 300*time.Millisecond, 1<<30

	st := testStore(t, t.TempDir())
	m := &module{store: st, signer: newSigner(), log: slog.New(slog.DiscardHandler), now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT "+httpPrefix+"{id}/{name}", m.servePut)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	now := time.Now()
	id, err := st.reserve(fileMeta{Owner: "romeo@localhost", Filename: "f.txt", Size: 1000, ContentType: "text/plain"}, 0, now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s%s/f.txt?token=%s HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n",
		httpPrefix, id, m.signer.token(id))
	conn.Write(make([]byte, 100))

	start := time.Now()
	conn.SetReadDeadline(start.Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("the stalled PUT ended after %v, want about %v", elapsed, putGrace)
	}
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			t.Fatalf("a PUT with 100 of 1000 bytes got %s", resp.Status)
		}
	}
	// The failed PUT released the slot.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := st.begin(id, time.Now()); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("slot not usable after the stalled PUT: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
