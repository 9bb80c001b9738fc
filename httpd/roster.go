package httpd

import "net/http"

// maxRosterBody bounds the JSON body of a roster item request.
const maxRosterBody = 64 << 10

// RosterItemRequest is the body of PUT /api/v1/users/{jid}/roster/{contact}.
type RosterItemRequest struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
}

func (s *Server) setRosterItem(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(w, r, maxRosterBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req RosterItemRequest
	if len(data) > 0 {
		if err := decodeStrict(data, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if err := s.admin.SetRosterItem(r.Context(), r.PathValue("jid"), r.PathValue("contact"), req.Name, req.Groups); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteRosterItem(w http.ResponseWriter, r *http.Request) {
	if err := s.admin.RemoveRosterItem(r.Context(), r.PathValue("jid"), r.PathValue("contact")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
