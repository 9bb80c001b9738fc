package httpd

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// gateAPI serves the REST API on the TCP listener: 404 when no admin
// token is configured, 401 without the right bearer token.
func (s *Server) gateAPI(w http.ResponseWriter, r *http.Request) {
	if !s.hasToken {
		http.NotFound(w, r)
		return
	}
	if !s.validToken(r.Header.Get("Authorization")) {
		s.failures.record(s.log, r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="tern"`)
		writeJSON(w, http.StatusUnauthorized, ErrorResponse{Error: "missing or invalid bearer token"})
		return
	}
	s.api.ServeHTTP(w, r)
}

// validToken reports whether header is "Bearer <admin token>" (the scheme
// is case-insensitive, RFC 9110 §11.1). It compares SHA-256 digests in
// constant time, so the time taken reveals neither the token's content
// nor its length.
func (s *Server) validToken(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], s.tokenHash[:]) == 1
}

// failureInterval is the shortest time between two log records about
// rejected API requests.
const failureInterval = time.Minute

// failureLog logs requests rejected for their token at most once per
// failureInterval, with the number of rejections since the last record.
type failureLog struct {
	mu    sync.Mutex
	last  time.Time // guarded by mu
	count int       // rejections not yet logged; guarded by mu
}

func (f *failureLog) record(log *slog.Logger, remote string) {
	f.mu.Lock()
	f.count++
	now := time.Now()
	if now.Sub(f.last) < failureInterval {
		f.mu.Unlock()
		return
	}
	n := f.count
	f.count = 0
	f.last = now
	f.mu.Unlock()
	log.Warn("admin API request rejected: missing or invalid bearer token",
		"remote", remote, "rejected_since_last_record", n)
}
