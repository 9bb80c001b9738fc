package c2s

import "net"

// RemoteAddr returns the address of the session's client, or nil while the
// session is detached. The admin API lists it with the sessions.
func (s *session) RemoteAddr() net.Addr {
	s.mu.Lock()
	c := s.c
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.raw.RemoteAddr()
}
