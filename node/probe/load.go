package probe

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/process"

	"wowlab/node/policy"
)

// Load measures the CPU used by processes other than this one: the
// machine's busy time minus this process's, over the time since the
// previous reading, in percent of all cores. It is safe for concurrent use.
type Load struct {
	mu    sync.Mutex
	self  *process.Process
	prev  cpuSample
	ready bool
}

// cpuSample is the machine's and this process's CPU seconds at one moment,
// summed over all cores.
type cpuSample struct {
	total, busy, self float64
}

// NewLoad returns a Load whose first reading covers the time since now.
func NewLoad() *Load {
	l := &Load{}
	if p, err := process.NewProcess(int32(os.Getpid())); err == nil {
		l.self = p
	}
	if s, err := l.sample(context.Background()); err == nil {
		l.prev, l.ready = s, true
	}
	return l
}

func (l *Load) sample(ctx context.Context) (cpuSample, error) {
	times, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return cpuSample{}, fmt.Errorf("read CPU times: %w", err)
	}
	if len(times) == 0 {
		return cpuSample{}, fmt.Errorf("%w: no CPU times", policy.ErrUnavailable)
	}
	t := times[0]
	s := cpuSample{total: t.Total(), busy: t.Total() - t.Idle - t.Iowait}
	if l.self == nil {
		return cpuSample{}, fmt.Errorf("%w: cannot inspect this process", policy.ErrUnavailable)
	}
	own, err := l.self.TimesWithContext(ctx)
	if err != nil {
		return cpuSample{}, fmt.Errorf("read this process's CPU times: %w", err)
	}
	s.self = own.User + own.System
	return s, nil
}

// OtherProcesses returns the CPU other processes used since the previous
// call (or since NewLoad), in percent of all cores.
func (l *Load) OtherProcesses(ctx context.Context) (float64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, err := l.sample(ctx)
	if err != nil {
		return 0, err
	}
	prev, ready := l.prev, l.ready
	l.prev, l.ready = s, true
	if !ready {
		return 0, fmt.Errorf("first CPU reading taken; the next one measures")
	}
	return otherPercent(prev, s), nil
}

// otherPercent is the share of the machine's CPU time between a and b
// spent outside this process, from 0 to 100.
func otherPercent(a, b cpuSample) float64 {
	total := b.total - a.total
	if total <= 0 {
		return 0
	}
	other := (b.busy - a.busy) - (b.self - a.self)
	return min(100, max(0, 100*other/total))
}
