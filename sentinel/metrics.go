package sentinel

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are one Service's Prometheus metrics, in their own registry.
type Metrics struct {
	registry        *prometheus.Registry
	chunksAssigned  prometheus.Counter
	chunksCompleted prometheus.Counter
	chunksFailed    prometheus.Counter
	chunksReclaimed prometheus.Counter
	nodesOnline     prometheus.Gauge
	chunksPending   prometheus.Gauge
	assignLatency   prometheus.Histogram
	jobDuration     prometheus.Histogram
	bodyBytes       prometheus.Gauge
}

func newMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		chunksAssigned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_chunks_assigned_total", Help: "Chunks assigned to nodes."}),
		chunksCompleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_chunks_completed_total", Help: "Chunk completions accepted (repeats not counted)."}),
		chunksFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_chunks_failed_total", Help: "Failed chunk attempts (reported by nodes or timed out)."}),
		chunksReclaimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sentinel_chunks_reclaimed_total", Help: "Running chunks taken back from silent nodes or after the time limit."}),
		nodesOnline: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sentinel_nodes_online", Help: "Nodes online."}),
		chunksPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sentinel_chunks_pending", Help: "Chunks waiting for a node."}),
		assignLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sentinel_assignment_latency_seconds", Help: "Time from a chunk's creation to its assignment.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}),
		jobDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sentinel_job_duration_seconds", Help: "Time from a job's creation to its completion.",
			Buckets: prometheus.ExponentialBuckets(1, 3, 10)}),
		bodyBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sentinel_request_body_bytes", Help: "Bytes of request bodies held now (bounded by --max-body-memory)."}),
	}
	m.registry.MustRegister(m.chunksAssigned, m.chunksCompleted, m.chunksFailed, m.chunksReclaimed,
		m.nodesOnline, m.chunksPending, m.assignLatency, m.jobDuration, m.bodyBytes)
	return m
}

// Registry is the registry holding the service's metrics, for /metrics.
func (s *Service) Registry() *prometheus.Registry { return s.metrics.registry }
