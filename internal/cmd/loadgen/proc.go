package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of the CPU times in
// /proc/PID/stat (fixed at 100 on every architecture Go supports; see
// proc(5), "utime").
const clockTicks = 100

// procTimes are a process's CPU time and resident memory read from /proc.
type procTimes struct {
	cpu time.Duration // user plus system
	rss int64         // bytes: VmRSS, or RssAnon with anonOnly
}

// readProc reads /proc/PID/stat and /proc/PID/status. anonOnly counts only
// anonymous memory: PostgreSQL backends map the shared buffers, which
// VmRSS would count once per backend.
func readProc(pid int, anonOnly bool) (procTimes, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procTimes{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return procTimes{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(stat[end+1:]))
	// After the name: state is field 3, utime 14 and stime 15.
	if len(f) < 13 {
		return procTimes{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procTimes{}, fmt.Errorf("/proc/%d/stat: bad CPU times", pid)
	}
	t := procTimes{cpu: time.Duration(ut+st) * time.Second / clockTicks}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procTimes{}, err
	}
	key := "VmRSS:"
	if anonOnly {
		key = "RssAnon:"
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				t.rss = kb << 10
			}
		}
	}
	return t, nil
}

// backendsOf returns the pids of the PostgreSQL backends serving database
// db: PostgreSQL titles them "postgres: [CLUSTER: ]USER DB ADDRESS STATE"
// (the cluster name when cluster_name is set).
func backendsOf(db string) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, p := range dirs {
		raw, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(raw, []byte("postgres: ")) {
			continue
		}
		f := strings.Fields(string(bytes.ReplaceAll(raw[len("postgres: "):], []byte{0}, []byte{' '})))
		if len(f) > 0 && strings.HasSuffix(f[0], ":") {
			f = f[1:]
		}
		if len(f) >= 2 && f[1] == db {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// usage is the CPU and memory a group of processes used in a window.
type usage struct {
	CPUSeconds float64 `json:"cpuSeconds"`
	CPUShare   float64 `json:"cpuShare"` // of one core over the window's wall time
	PeakRSSMiB float64 `json:"peakRssMiB"`
}

// sampler follows the CPU time and memory of the sentinels, the
// PostgreSQL backends of the run's database and this process.
type sampler struct {
	sentinels []int
	db        string

	mu      sync.Mutex
	last    map[int]time.Duration // CPU time last read, by pid
	groups  map[string]*groupUsage
	started time.Time
}

type groupUsage struct {
	cpu  time.Duration
	peak int64
}

func newSampler(sentinels []int, db string) *sampler {
	return &sampler{sentinels: sentinels, db: db, last: map[int]time.Duration{}}
}

// reset starts a new window: CPU counted from now, peaks forgotten.
func (s *sampler) reset(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups = map[string]*groupUsage{"sentinel": {}, "postgres": {}, "loadgen": {}}
	s.started = now
	s.sampleLocked(false)
}

// sample reads every process once and adds what they used since the last
// sample to the window.
func (s *sampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sampleLocked(true)
}

func (s *sampler) sampleLocked(count bool) {
	read := func(group string, pids []int, anonOnly bool) {
		g := s.groups[group]
		var rss int64
		for _, pid := range pids {
			t, err := readProc(pid, anonOnly)
			if err != nil {
				continue // exited meanwhile
			}
			prev, seen := s.last[pid]
			s.last[pid] = t.cpu
			if count && seen {
				g.cpu += t.cpu - prev
			} else if count && group == "postgres" {
				g.cpu += t.cpu // a backend started in this window
			}
			rss += t.rss
		}
		g.peak = max(g.peak, rss)
	}
	read("sentinel", s.sentinels, false)
	read("postgres", backendsOf(s.db), true)
	read("loadgen", []int{os.Getpid()}, false)
}

// window returns what each group used since reset.
func (s *sampler) window(now time.Time) map[string]usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	wall := now.Sub(s.started).Seconds()
	out := map[string]usage{}
	for name, g := range s.groups {
		u := usage{CPUSeconds: g.cpu.Seconds(), PeakRSSMiB: float64(g.peak) / (1 << 20)}
		if wall > 0 {
			u.CPUShare = u.CPUSeconds / wall
		}
		out[name] = u
	}
	return out
}
