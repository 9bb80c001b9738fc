package server

import (
	"fmt"

	"tern/component"
)

// newComponents registers the configured external components (XEP-0114)
// with the router. New calls it before anything is routed.
func (s *Server) newComponents() error {
	comp, err := component.New(s.cfg, s.router, s.log.With("component", "component"))
	if err != nil {
		return fmt.Errorf("set up external components: %w", err)
	}
	s.comp = comp
	return nil
}

// startComponents opens the component listener unless component.listen
// is empty.
func (s *Server) startComponents() error {
	if s.cfg.Component.Listen == "" {
		return nil
	}
	return s.listen("component", s.cfg.Component.Listen, s.comp.Serve)
}

// Components returns the server for external components.
func (s *Server) Components() *component.Server { return s.comp }
