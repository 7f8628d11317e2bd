package engine

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func loadExample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("../examples/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func benchIterations(b *testing.B, example string, threads int) {
	s, err := Compile(loadExample(b, example))
	if err != nil {
		b.Fatal(err)
	}
	// Warm up: the first run sizes the event queue.
	if _, err := s.Run(context.Background(), 0, 1, RunOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	r, err := s.Run(context.Background(), 0, b.N, RunOptions{Threads: threads})
	if err != nil {
		b.Fatal(err)
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "iterations/s")
	b.ReportMetric(float64(r.Events)/secs, "events/s")
}

// BenchmarkBMIteration300s is one 300 s Beast Mastery fight (the Pack
// Leader profile) on one core.
func BenchmarkBMIteration300s(b *testing.B) { benchIterations(b, "bm_hunter.json", 1) }

// BenchmarkMMIteration300s is one 300 s Marksmanship fight (the Dark
// Ranger profile) on one core.
func BenchmarkMMIteration300s(b *testing.B) { benchIterations(b, "mm_hunter.json", 1) }

// BenchmarkProfileIteration300s is one 300 s fight of each bundled profile
// on one core.
func BenchmarkProfileIteration300s(b *testing.B) {
	for _, ex := range []string{"bm_hunter.json", "bm_dark_ranger.json", "mm_hunter.json", "mm_sentinel.json"} {
		b.Run(strings.TrimSuffix(ex, ".json"), func(b *testing.B) { benchIterations(b, ex, 1) })
	}
}

// BenchmarkBatch10k runs 10 000 BM iterations on every core.
func BenchmarkBatch10k(b *testing.B) {
	s, err := Compile(loadExample(b, "bm_hunter.json"))
	if err != nil {
		b.Fatal(err)
	}
	threads := runtime.GOMAXPROCS(0)
	b.ReportAllocs()
	var events int64
	for b.Loop() {
		r, err := s.Run(context.Background(), 0, 10_000, RunOptions{Threads: threads})
		if err != nil {
			b.Fatal(err)
		}
		events += r.Events
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)*10_000/secs, "iterations/s")
	b.ReportMetric(float64(events)/secs, "events/s")
}

// BenchmarkBatchScaling runs 2 000 BM iterations on one core and on every
// core by turns and reports how many times faster every core is. Taking
// turns keeps a host whose speed drifts from favouring either side.
func BenchmarkBatchScaling(b *testing.B) {
	s, err := Compile(loadExample(b, "bm_hunter.json"))
	if err != nil {
		b.Fatal(err)
	}
	cores := runtime.GOMAXPROCS(0)
	if cores < 2 {
		b.Skip("scaling needs more than one core")
	}
	var one, all time.Duration
	for b.Loop() {
		for _, threads := range []int{1, cores} {
			start := time.Now()
			if _, err := s.Run(context.Background(), 0, 2000, RunOptions{Threads: threads}); err != nil {
				b.Fatal(err)
			}
			if threads == 1 {
				one += time.Since(start)
			} else {
				all += time.Since(start)
			}
		}
	}
	b.ReportMetric(float64(cores), "cores")
	b.ReportMetric(one.Seconds()/all.Seconds(), "speedup")
}

// BenchmarkRotationDecision is one walk of the default BM rotation in the
// middle of a fight.
func BenchmarkRotationDecision(b *testing.B) {
	s, err := Compile(loadExample(b, "bm_hunter.json"))
	if err != nil {
		b.Fatal(err)
	}
	st, err := s.getState()
	if err != nil {
		b.Fatal(err)
	}
	st.reset(1)
	// Advance into the fight so cooldowns and auras are in a typical mix.
	for st.now < 60_000 && st.step() {
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st.wake = never
		st.prog.Decide()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
