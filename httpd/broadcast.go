package httpd

import (
	"net/http"

	"tern/admin"
)

// maxBroadcastBody bounds the JSON body of POST /api/v1/broadcast.
const maxBroadcastBody = 64 << 10

// broadcast sends the admin.Broadcast of the body to users and responds
// with an admin.BroadcastResult.
func (s *Server) broadcast(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(w, r, maxBroadcastBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req admin.Broadcast
	if err := decodeStrict(data, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.admin.Broadcast(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
