package upload

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"tern/modules"
)

// contentSecurityPolicy is the CSP of every served file, so that a
// browser runs no script or plugin from it and embeds it in no page.
const contentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; sandbox"

// mountHTTP routes the upload paths. A GET route also serves HEAD.
func (m *module) mountHTTP(mux modules.HTTPMux) {
	pattern := httpPrefix + "{id}/{name}"
	mux.HandleHTTP("PUT "+pattern, http.HandlerFunc(m.servePut))
	mux.HandleHTTP("GET "+pattern, http.HandlerFunc(m.serveGet))
	mux.HandleHTTP("OPTIONS "+pattern, http.HandlerFunc(m.serveOptions))
}

// setCORS allows web clients on any origin to upload and fetch files
// (https://fetch.spec.whatwg.org/#http-cors-protocol). The URLs carry
// their own secrets and no cookies are used, so "*" exposes nothing.
func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "7200")
}

func (m *module) serveOptions(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	w.Header().Set("Allow", "GET, HEAD, PUT, OPTIONS")
	w.WriteHeader(http.StatusNoContent)
}

// A PUT's body must arrive within putGrace plus one second for every
// putMinRate bytes, which is about 1 h 49 min for 100 MiB. Slower
// uploads fail, and the slot stays usable for a retry while it is valid.
// Tests change the values.
var (
	putGrace         = 2 * time.Minute
	putMinRate int64 = 16 << 10 // bytes per second
)

// servePut stores the body of a PUT to a slot: once, with the announced
// size and content type, before the slot expires.
func (m *module) servePut(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	s, status, err := m.beginPut(r)
	if err != nil {
		m.log.Debug("upload rejected", "id", r.PathValue("id"), "status", status, "err", err)
		http.Error(w, err.Error(), status)
		return
	}

	meta := s.meta
	meta.Created = m.now().UTC()
	if m.cfg.Expiry > 0 {
		meta.Expires = meta.Created.Add(m.cfg.Expiry)
	}
	// The HTTP server bounds only the request header. A body that
	// trickles in would hold the connection and the slot without end, so
	// it must arrive at putMinRate on average, after putGrace.
	deadline := time.Now().Add(putGrace + time.Duration(meta.Size/putMinRate)*time.Second)
	if err := http.NewResponseController(w).SetReadDeadline(deadline); err != nil {
		m.log.Debug("upload without a read deadline", "id", s.id, "err", err)
	}
	err = m.store.save(s, http.MaxBytesReader(w, r.Body, meta.Size+1), meta)
	switch {
	case errors.Is(err, errTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, errTooShort):
		status = http.StatusBadRequest
	case err != nil:
		m.log.Warn("upload failed", "id", s.id, "owner", meta.Owner, "err", err)
		http.Error(w, "the upload failed; retry the PUT while the slot is valid", http.StatusInternalServerError)
		return
	default:
		m.log.Info("file uploaded", "id", s.id, "owner", meta.Owner, "size", meta.Size)
		w.WriteHeader(http.StatusCreated)
		return
	}
	m.log.Debug("upload rejected", "id", s.id, "status", status, "err", err)
	http.Error(w, err.Error(), status)
}

// beginPut checks a PUT's slot id, token, name, length and type, and
// marks the slot as being uploaded to. On failure it returns the HTTP
// status and the reason, and the slot stays usable.
func (m *module) beginPut(r *http.Request) (slot, int, error) {
	id := r.PathValue("id")
	if !validSlotID(id) {
		return slot{}, http.StatusNotFound, errSlotUnknown
	}
	if !m.signer.verify(id, r.URL.Query().Get("token")) {
		return slot{}, http.StatusForbidden, errors.New("the upload token is missing or invalid")
	}
	s, err := m.store.begin(id, m.now())
	switch {
	case errors.Is(err, errStored), errors.Is(err, errSlotBusy):
		return slot{}, http.StatusConflict, err
	case err != nil:
		return slot{}, http.StatusNotFound, err
	}
	if status, err := checkPut(r, s.meta); err != nil {
		m.store.abort(id)
		return slot{}, status, err
	}
	return s, 0, nil
}

// checkPut compares a PUT's file name, length and type with its slot,
// and returns the HTTP status and the reason of a mismatch.
func checkPut(r *http.Request, meta fileMeta) (int, error) {
	if r.PathValue("name") != meta.Filename {
		return http.StatusNotFound, errors.New("the file name differs from the upload slot's")
	}
	switch {
	case r.ContentLength > meta.Size:
		return http.StatusRequestEntityTooLarge, fmt.Errorf("Content-Length is %d, but the slot is for %d bytes", r.ContentLength, meta.Size)
	case r.ContentLength >= 0 && r.ContentLength < meta.Size:
		return http.StatusBadRequest, fmt.Errorf("Content-Length is %d, but the slot is for %d bytes", r.ContentLength, meta.Size)
	}
	// A PUT without Content-Type gets the announced type.
	if ct := r.Header.Get("Content-Type"); ct != "" && !sameMediaType(ct, meta.ContentType) {
		return http.StatusBadRequest, fmt.Errorf("Content-Type %q differs from the slot's %q", ct, meta.ContentType)
	}
	return 0, nil
}

// sameMediaType reports whether two content types have the same media
// type, ignoring parameters and case.
func sameMediaType(a, b string) bool {
	ma, _, errA := mime.ParseMediaType(a)
	mb, _, errB := mime.ParseMediaType(b)
	return errA == nil && errB == nil && ma == mb
}

// serveGet serves a stored file. http.ServeContent adds HEAD, byte
// ranges and conditional requests.
func (m *module) serveGet(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	id := r.PathValue("id")
	if !validSlotID(id) {
		http.NotFound(w, r)
		return
	}
	meta, ok := m.store.file(id, m.now())
	if !ok || r.PathValue("name") != meta.Filename {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(m.store.path(id))
	if err != nil {
		// removeExpired may have deleted it since the lookup.
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", meta.ContentType)
	h.Set("Content-Disposition", contentDisposition(meta.ContentType, meta.Filename))
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("ETag", `"`+id+`"`)
	http.ServeContent(w, r, "", meta.Created, f)
}

// contentDisposition shows images, audio and video inline and offers
// every other type, including SVG which can carry scripts, as a
// download. The file name is encoded per RFC 6266 and RFC 2231.
func contentDisposition(contentType, filename string) string {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	kind := "attachment"
	if (strings.HasPrefix(mediaType, "image/") && mediaType != "image/svg+xml") ||
		strings.HasPrefix(mediaType, "audio/") || strings.HasPrefix(mediaType, "video/") {
		kind = "inline"
	}
	if v := mime.FormatMediaType(kind, map[string]string{"filename": filename}); v != "" {
		return v
	}
	return kind
}
