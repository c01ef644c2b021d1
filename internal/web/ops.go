package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mutualhq/mutual/internal/store"
)

// metrics are Mutual's Prometheus metrics, on their own registry so tests
// can build many servers in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// watchAdmission exports the admission limit's state.
func (m *metrics) watchAdmission(a *admission) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mutual_http_in_flight", Help: "Requests being worked on (admitted)."},
			func() float64 { return float64(len(a.slots)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mutual_http_max_in_flight", Help: "The most requests worked on at once."},
			func() float64 { return float64(cap(a.slots)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mutual_http_queued", Help: "Requests waiting for a turn."},
			func() float64 { return float64(a.queued.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mutual_http_shed_total", Help: "Requests answered 503 because the instance was busy."},
			func() float64 { return float64(a.shed.Load()) }),
	)
}

func newMetrics(db *store.DB) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mutual_http_requests_total",
		Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mutual_http_request_duration_seconds",
		Help: "HTTP request duration by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	m.reg.MustRegister(m.requests, m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db.WritePool(), string(db.Dialect)))
	}
	return m
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("ok\n"))
	return err
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.db.Ping(ctx); err != nil {
		s.log.Error("readiness check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unavailable\n"))
		return nil
	}
	_, err := w.Write([]byte("ready\n"))
	return err
}
