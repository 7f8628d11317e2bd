package control

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"wowlab/node"
)

// collector reads the node's figures at each scrape.
type collector struct {
	node    Node
	version string

	iterations, completed, failed                  *prometheus.Desc
	busy, workers, cores, allowed, rate, cpu, held *prometheus.Desc
	state, rule, info                              *prometheus.Desc
}

func newCollector(n Node, version string) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("wowlab_node_"+name, help, labels, nil)
	}
	return &collector{
		node: n, version: version,
		iterations: d("iterations_total", "Iterations simulated since the node started."),
		completed:  d("chunks_completed_total", "Chunks completed and accepted by the sentinel."),
		failed:     d("chunks_failed_total", "Chunks that failed or whose result was refused."),
		busy:       d("workers_busy", "Workers simulating a chunk now."),
		workers:    d("workers", "Workers of the pool."),
		cores:      d("cores_total", "Logical CPUs of the machine."),
		allowed:    d("policy_cores", "Cores the volunteer's policies allow now; 0 while paused."),
		rate:       d("iterations_per_second", "Iterations per second over the last minute."),
		cpu:        d("cpu_percent", "CPU used by the node process; 100 is one core."),
		held:       d("chunks_held", "Chunks the node holds, queued or running."),
		state:      d("state", "The lifecycle phase: 1 for the current one.", "state"),
		rule:       d("policy_rule", "The rule that decides the cores now: 1 for it.", "rule"),
		info:       d("info", "The node's version, id and platform.", "version", "node_id", "platform"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.iterations, c.completed, c.failed, c.busy, c.workers, c.cores, c.allowed, c.rate, c.cpu, c.held, c.state, c.rule, c.info} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st, s, h, d := c.node.State(), c.node.Stats(), c.node.Host(), c.node.Policy().Decision
	m := func(desc *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, t, v, labels...)
	}
	m(c.iterations, prometheus.CounterValue, float64(s.Iterations))
	m(c.completed, prometheus.CounterValue, float64(s.CompletedChunks))
	m(c.failed, prometheus.CounterValue, float64(s.FailedChunks))
	m(c.busy, prometheus.GaugeValue, float64(s.BusyWorkers))
	m(c.workers, prometheus.GaugeValue, float64(s.MaxWorkers))
	m(c.cores, prometheus.GaugeValue, float64(s.TotalCores))
	m(c.allowed, prometheus.GaugeValue, float64(d.Cores))
	m(c.rate, prometheus.GaugeValue, s.IterationsPerSecond)
	m(c.cpu, prometheus.GaugeValue, s.CPUPercent)
	m(c.held, prometheus.GaugeValue, float64(s.ActiveChunks))
	for _, p := range phases() {
		m(c.state, prometheus.GaugeValue, oneIf(p == st.Phase), p.String())
	}
	for _, ef := range d.Effects {
		m(c.rule, prometheus.GaugeValue, oneIf(ef.Rule == d.Rule), string(ef.Rule))
	}
	m(c.info, prometheus.GaugeValue, 1, c.version, st.NodeID, h.Platform)
}

// phases lists every lifecycle phase the node package names.
func phases() []node.Phase {
	var out []node.Phase
	for p := node.Phase(1); !strings.HasPrefix(p.String(), "Phase("); p++ {
		out = append(out, p)
	}
	return out
}

func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
