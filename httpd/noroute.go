package httpd

import (
	"fmt"
	"net/http"
)

// jsonNoRoute returns a handler that serves mux. When no route matches
// the path or the method, it sends mux's 404 or 405 with a JSON
// ErrorResponse body, as for every other API error, and a 405 keeps the
// Allow header that mux sets.
func jsonNoRoute(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// No route matches. Run mux's handler for this case on a recorder
		// to learn its status and Allow header.
		rec := &headerRecorder{header: make(http.Header)}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusNotFound:
			writeJSON(w, http.StatusNotFound, ErrorResponse{
				Error: fmt.Sprintf("no API endpoint at %s", r.URL.Path),
			})
		case http.StatusMethodNotAllowed:
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, ErrorResponse{
				Error: fmt.Sprintf("method %s not allowed on %s; allowed methods: %s", r.Method, r.URL.Path, allow),
			})
		default:
			// A redirect to a cleaned path is served as mux serves it.
			// The canonical-form check lets no such path through.
			mux.ServeHTTP(w, r)
		}
	})
}

// headerRecorder is a ResponseWriter that keeps the header and status
// and discards the body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }

func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}

func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}
