package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"tern/router"
)

// routerCollector serves the router's stanza counters as
// tern_stanzas_routed_total and tern_stanzas_bounced_total.
type routerCollector struct {
	router  *router.Router
	routed  *prometheus.Desc
	bounced *prometheus.Desc
}

func newRouterCollector(r *router.Router) *routerCollector {
	return &routerCollector{
		router: r,
		routed: prometheus.NewDesc("tern_stanzas_routed_total",
			"Stanzas routed on this node, by element name and by destination: local addresses, components or other servers.",
			[]string{"kind", "destination"}, nil),
		bounced: prometheus.NewDesc("tern_stanzas_bounced_total",
			"Stanzas answered with an error because they could not be delivered, by element name.",
			[]string{"kind"}, nil),
	}
}

func (c *routerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.routed
	ch <- c.bounced
}

func (c *routerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, rc := range c.router.RouteCounts() {
		ch <- prometheus.MustNewConstMetric(c.routed, prometheus.CounterValue, float64(rc.Stanzas), rc.Kind, rc.Destination)
	}
	for kind, n := range c.router.BounceCounts() {
		ch <- prometheus.MustNewConstMetric(c.bounced, prometheus.CounterValue, float64(n), kind)
	}
}

// metricsCollectors returns the collectors that the HTTP listener serves
// beside its own gauges.
func (s *Server) metricsCollectors() []prometheus.Collector {
	cs := []prometheus.Collector{newRouterCollector(s.router)}
	if s.comp != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tern_component_connections",
			Help: "Connected external components (XEP-0114) on this node.",
		}, func() float64 { return float64(s.comp.ConnCount()) }))
	}
	return cs
}
