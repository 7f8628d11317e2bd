package node

import (
	"math"
	"testing"
	"time"
)

func TestMeterSlidingWindow(t *testing.T) {
	t0 := time.Unix(1_767_225_600, 0)
	m := newMeter(t0.Add(-time.Hour))
	// 100 iterations per second for 120 s.
	for s := 0; s < 120; s++ {
		m.addIterations(100, t0.Add(time.Duration(s)*time.Second))
	}
	now := t0.Add(119 * time.Second)
	if r := m.rate(now); math.Abs(r-100) > 1e-9 {
		t.Fatalf("steady rate %v, want 100", r)
	}
	// 30 s of silence: half of the window is empty.
	if r := m.rate(now.Add(30 * time.Second)); math.Abs(r-50) > 1e-9 {
		t.Fatalf("rate after 30 s idle %v, want 50", r)
	}
	if r := m.rate(now.Add(61 * time.Second)); r != 0 {
		t.Fatalf("rate after 61 s idle %v, want 0", r)
	}
	var s Stats
	m.chunkDone(true)
	m.chunkDone(false)
	m.fill(&s, now)
	if s.Iterations != 12000 || s.CompletedChunks != 1 || s.FailedChunks != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestMeterYoungRateUsesElapsedTime(t *testing.T) {
	t0 := time.Unix(1_767_225_600, 0)
	m := newMeter(t0)
	m.addIterations(1000, t0.Add(9*time.Second))
	if r := m.rate(t0.Add(10 * time.Second)); math.Abs(r-100) > 1e-9 {
		t.Fatalf("rate %v, want 100 (1000 over 10 s)", r)
	}
	m.addIterations(-5, t0)
	m.addIterations(0, t0)
	var s Stats
	m.fill(&s, t0.Add(10*time.Second))
	if s.Iterations != 1000 {
		t.Fatalf("non-positive counts changed the total: %d", s.Iterations)
	}
}

func TestCPUSampler(t *testing.T) {
	c := newCPUSampler()
	c.percent()
	deadline := time.Now().Add(200 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if p := c.percent(); p < 0 || math.IsNaN(p) {
		t.Fatalf("cpu percent %v after busy loop (%d)", p, x)
	}
}
