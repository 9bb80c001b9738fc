package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"tern/admin"
)

// apiPrefix is the path prefix of the REST API.
const apiPrefix = "/api/"

// Request body limits. A bulk add of 100,000 users with 40-byte JIDs and
// passwords is about 10 MiB of JSON.
const (
	maxUsersBody    = 32 << 20
	maxPasswordBody = 64 << 10
)

// AddUsersResponse is the body of a successful POST /api/v1/users.
type AddUsersResponse struct {
	Created int `json:"created"`
}

// UsersResponse is the body of GET /api/v1/users.
type UsersResponse struct {
	Users []string `json:"users"`
}

// PasswordRequest is the body of PUT /api/v1/users/{jid}/password.
type PasswordRequest struct {
	Password string `json:"password"`
}

// SessionsResponse is the body of GET /api/v1/sessions.
type SessionsResponse struct {
	Sessions []admin.SessionInfo `json:"sessions"`
}

// ErrorResponse is the body of every API response with a status of 400
// or more.
type ErrorResponse struct {
	Error string `json:"error"`
}

// Errors about the request body. The admin errors cover its content.
var (
	// errBadBody reports a request body that is not the JSON the
	// endpoint takes.
	errBadBody = errors.New("invalid request body")
	// errBodyTooLarge reports a request body over the endpoint's limit.
	errBodyTooLarge = errors.New("request body too large")
)

// apiRoutes returns the REST API's routes. GET /api/v1/stats returns an
// admin.Stats object.
func (s *Server) apiRoutes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/users", s.listUsers)
	m.HandleFunc("POST /api/v1/users", s.addUsers)
	m.HandleFunc("DELETE /api/v1/users/{jid}", s.deleteUser)
	m.HandleFunc("PUT /api/v1/users/{jid}/password", s.setPassword)
	m.HandleFunc("PUT /api/v1/users/{jid}/roster/{contact}", s.setRosterItem)
	m.HandleFunc("DELETE /api/v1/users/{jid}/roster/{contact}", s.deleteRosterItem)
	m.HandleFunc("GET /api/v1/sessions", s.listSessions)
	m.HandleFunc("GET /api/v1/stats", s.stats)
	m.HandleFunc("POST /api/v1/broadcast", s.broadcast)
	return m
}

// listUsers lists the accounts of the domain in the query parameter
// "domain", or of every served domain without it.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.admin.ListUsers(r.Context(), r.URL.Query().Get("domain"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, UsersResponse{Users: nonNil(users)})
}

// addUsers creates the accounts of a body that is one admin.NewUser or a
// list of them, all or none.
func (s *Server) addUsers(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(w, r, maxUsersBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	users, err := decodeNewUsers(data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.admin.AddUsers(r.Context(), users); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, AddUsersResponse{Created: len(users)})
}

// readBody reads r's body up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("%w: the limit is %d bytes", errBodyTooLarge, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadBody, err)
	}
	return data, nil
}

// decodeNewUsers decodes a JSON object or array of admin.NewUser.
func decodeNewUsers(data []byte) ([]admin.NewUser, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var users []admin.NewUser
		if err := decodeStrict(trimmed, &users); err != nil {
			return nil, err
		}
		return users, nil
	}
	var u admin.NewUser
	if err := decodeStrict(trimmed, &u); err != nil {
		return nil, err
	}
	return []admin.NewUser{u}, nil
}

// decodeStrict decodes exactly one JSON value with only known fields.
func decodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %s", errBadBody, describeJSONError(err))
	}
	if d.More() {
		return fmt.Errorf("%w: data after the JSON value", errBadBody)
	}
	return nil
}

// describeJSONError returns the text of a decoding error without the
// "json: " prefix and Go type names.
func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON value is incomplete"
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind()), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("expected %s, not %s", jsonKind(typeErr.Type.Kind()), typeErr.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind returns the JSON name of the values that decode into a Go
// value of kind k.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + k.String()
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.admin.DeleteUser(r.Context(), r.PathValue("jid")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(w, r, maxPasswordBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req PasswordRequest
	if err := decodeStrict(data, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.admin.SetPassword(r.Context(), r.PathValue("jid"), req.Password); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	sessions, err := s.admin.Sessions(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SessionsResponse{Sessions: nonNil(sessions)})
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	st, err := s.admin.Stats(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// writeError sends err with the status that fits it. Errors without a
// known cause are logged and sent as a generic 500, so that no storage
// detail reaches the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("admin API request failed", "method", r.Method, "err", err)
		msg = "internal server error; see the server log"
	}
	writeJSON(w, status, ErrorResponse{Error: msg})
}

// statusOf maps an error of the admin operations to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadBody),
		errors.Is(err, admin.ErrInvalidJID),
		errors.Is(err, admin.ErrUnknownDomain),
		errors.Is(err, admin.ErrInvalidPassword),
		errors.Is(err, admin.ErrInvalidMessage):
		return http.StatusBadRequest
	case errors.Is(err, admin.ErrNotFound),
		errors.Is(err, admin.ErrNotInRoster):
		return http.StatusNotFound
	case errors.Is(err, admin.ErrExists):
		return http.StatusConflict
	case errors.Is(err, admin.ErrNotRunning),
		errors.Is(err, admin.ErrModuleDisabled),
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeJSON sends v as the JSON body of a response that must not be
// cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// nonNil returns an empty slice for nil, so that JSON has [] and not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
