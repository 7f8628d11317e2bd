package node

import (
	"os"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// RateWindow is the span over which Stats.IterationsPerSecond is measured.
const RateWindow = 60 * time.Second

// Stats is a snapshot of what the node is doing and has done since it started.
type Stats struct {
	ActiveChunks        int     `json:"activeChunks"`
	CompletedChunks     int64   `json:"completedChunks"`
	FailedChunks        int64   `json:"failedChunks"`
	Iterations          int64   `json:"iterations"`          // iterations simulated, finished chunks or not
	IterationsPerSecond float64 `json:"iterationsPerSecond"` // over the last RateWindow
	BusyWorkers         int     `json:"busyWorkers"`
	MaxWorkers          int     `json:"maxWorkers"`
	TotalCores          int     `json:"totalCores"`
	CPUPercent          float64 `json:"cpuPercent"` // this process, 100 = one core
}

// meter counts chunks and iterations and measures the iteration rate over a
// sliding window of one-second buckets. It is safe for concurrent use.
type meter struct {
	mu        sync.Mutex
	completed int64
	failed    int64
	total     int64
	buckets   [60]int64 // iterations per second, indexed by unix second mod 60
	stamps    [60]int64 // the unix second each bucket holds
	started   time.Time
}

func newMeter(now time.Time) *meter { return &meter{started: now} }

// addIterations records n iterations finished at now.
func (m *meter) addIterations(n int64, now time.Time) {
	if n <= 0 {
		return
	}
	sec := now.Unix()
	i := int(((sec % 60) + 60) % 60)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stamps[i] != sec {
		m.stamps[i], m.buckets[i] = sec, 0
	}
	m.buckets[i] += n
	m.total += n
}

// simulated returns the iterations simulated so far, in chunks finished or
// not.
func (m *meter) simulated() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}

func (m *meter) chunkDone(ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ok {
		m.completed++
	} else {
		m.failed++
	}
}

// rate returns iterations per second over the RateWindow ending at now (or
// over the time since the meter started, when that is shorter).
func (m *meter) rate(now time.Time) float64 {
	sec := now.Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	var sum int64
	for i := range m.buckets {
		if age := sec - m.stamps[i]; age >= 0 && age < 60 {
			sum += m.buckets[i]
		}
	}
	span := RateWindow
	if el := now.Sub(m.started); el < span {
		span = max(el, time.Second)
	}
	return float64(sum) / span.Seconds()
}

func (m *meter) fill(s *Stats, now time.Time) {
	r := m.rate(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	s.CompletedChunks, s.FailedChunks, s.Iterations, s.IterationsPerSecond = m.completed, m.failed, m.total, r
}

// cpuSampler measures this process's CPU use between two calls.
type cpuSampler struct {
	mu   sync.Mutex
	proc *process.Process
}

func newCPUSampler() *cpuSampler {
	p, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		return &cpuSampler{}
	}
	return &cpuSampler{proc: p}
}

// percent returns CPU use since the previous call (0 on the first call or
// when the platform cannot tell).
func (c *cpuSampler) percent() float64 {
	if c.proc == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, err := c.proc.Percent(0)
	if err != nil {
		return 0
	}
	return p
}
