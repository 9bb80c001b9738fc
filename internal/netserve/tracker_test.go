package netserve

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestTrackerServeAndClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var tr Tracker[net.Conn]
	started := make(chan net.Conn, 1)
	served := make(chan error, 1)
	go func() {
		served <- tr.Serve(l, func(c net.Conn) net.Conn { return c }, func(c net.Conn) {
			started <- c
			buf := make([]byte, 1)
			c.Read(buf) // returns when the connection is closed
		})
	}()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	<-started
	if n := tr.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
	open := tr.Close()
	if len(open) != 1 {
		t.Fatalf("Close returned %d connections, want 1", len(open))
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
	open[0].Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Wait(ctx); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if tr.Go(client, func(net.Conn) {}) {
		t.Error("Go after Close started a connection")
	}
}

func TestTrackerWaitTimesOut(t *testing.T) {
	var tr Tracker[int]
	block := make(chan struct{})
	defer close(block)
	tr.Go(1, func(int) { <-block })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := tr.Wait(ctx); err == nil {
		t.Error("Wait returned before the connection ended")
	}
}
