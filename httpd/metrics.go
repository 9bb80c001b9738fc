package httpd

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry returns a registry with the Go runtime and process
// collectors, the server's gauges and opts.Collectors.
func newRegistry(opts Options) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	reg.MustRegister(opts.Collectors...)
	if opts.SessionCount != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tern_sessions_online",
			Help: "Client sessions bound to a resource on this node.",
		}, func() float64 { return float64(opts.SessionCount()) }))
	}
	if opts.ConnCount != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tern_c2s_connections",
			Help: "Open client connections on this node, including those not yet authenticated.",
		}, func() float64 { return float64(opts.ConnCount()) }))
	}
	return reg
}

// metricsHandler serves reg in the Prometheus exposition formats and
// counts its own requests in promhttp_metric_handler_requests_total.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          reg,
		EnableOpenMetrics: true,
	})
	return promhttp.InstrumentMetricHandler(reg, h)
}
