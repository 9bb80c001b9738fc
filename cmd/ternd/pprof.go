//go:build pprof

package main

import (
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // registers the /debug/pprof handlers
	"os"
)

// Built with -tags pprof, ternd serves the Go profiler's endpoints on
// the address in TERN_PPROF (such as 127.0.0.1:6060) for benchmarking.
// Release builds leave this file out.
func init() {
	addr := os.Getenv("TERN_PPROF")
	if addr == "" {
		return
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		slog.Error("pprof listener failed", "addr", addr, "err", err)
		return
	}
	go http.Serve(l, nil)
}
