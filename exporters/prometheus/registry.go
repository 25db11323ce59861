package prometheus

import (
	"net/http"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a private registry (never the global one) holding the collector
// and the Go runtime and process collectors.
func NewRegistry(c *Collector) *prom.Registry {
	reg := prom.NewRegistry()
	reg.MustRegister(
		c,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler serves the registry in the text or OpenMetrics format. A metric that fails to
// gather is left out and counted in promhttp_metric_handler_errors_total instead of
// failing the scrape; scrapes themselves are counted in promhttp_metric_handler_requests_total.
func Handler(reg *prom.Registry) http.Handler {
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:          reg,
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	}))
}
