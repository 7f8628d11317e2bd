package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSetupWritesConsoleFileAndRing(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 1, 10, 12, 0, 0, 0, time.Local)}
	var console bytes.Buffer
	ring := NewRing(10)
	l, err := Setup(Options{Console: &console, Format: JSON, Dir: dir, Ring: ring, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.With("node", "n1").WithGroup("chunk").Info("chunk done", "id", "c1", "iterations", 1000)

	var rec map[string]any
	if err := json.Unmarshal(console.Bytes(), &rec); err != nil {
		t.Fatalf("console is not JSON: %v: %q", err, console.String())
	}
	if rec["msg"] != "chunk done" || rec["node"] != "n1" {
		t.Fatalf("console record %v", rec)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "node-2026-01-10.log"))
	if err != nil || !strings.Contains(string(raw), `"chunk done"`) {
		t.Fatalf("log file: %v %q", err, raw)
	}
	got := ring.Recent()
	if len(got) != 1 {
		t.Fatalf("ring has %d entries", len(got))
	}
	want := []Attr{{"node", "n1"}, {"chunk.id", "c1"}, {"chunk.iterations", "1000"}}
	if len(got[0].Attrs) != len(want) {
		t.Fatalf("attrs %v, want %v", got[0].Attrs, want)
	}
	for i := range want {
		if got[0].Attrs[i] != want[i] {
			t.Fatalf("attrs %v, want %v", got[0].Attrs, want)
		}
	}
}

func TestSetupRejectsUnknownFormat(t *testing.T) {
	if _, err := Setup(Options{Format: "yaml"}); err == nil {
		t.Fatal("want error for format yaml")
	}
}

func TestDailyFileRotatesAndKeepsSevenDays(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 23, 0, 0, 0, time.Local)}
	// An old file from another program with the same directory must survive.
	other := filepath.Join(dir, "other.txt")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenDailyFile(dir, "node", 7, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for day := 0; day < 10; day++ {
		if _, err := f.Write([]byte("line\n")); err != nil {
			t.Fatal(err)
		}
		clk.Add(24 * time.Hour)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "node-*.log"))
	if len(files) != 7 {
		t.Fatalf("kept %d files, want 7: %v", len(files), files)
	}
	if _, err := os.Stat(filepath.Join(dir, "node-2026-01-03.log")); !os.IsNotExist(err) {
		t.Fatalf("2026-01-03 should be pruned, stat err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node-2026-01-10.log")); err != nil {
		t.Fatalf("newest file missing: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("unrelated file removed: %v", err)
	}
}

func TestRingWrapsAndSubscribersDoNotBlock(t *testing.T) {
	r := NewRing(3)
	ch, cancel := r.Subscribe(1)
	for i := 0; i < 5; i++ {
		r.Add(Entry{Message: string(rune('a' + i)), Level: slog.LevelInfo})
	}
	var msgs []string
	for _, e := range r.Recent() {
		msgs = append(msgs, e.Message)
	}
	if strings.Join(msgs, "") != "cde" {
		t.Fatalf("recent = %v, want c d e", msgs)
	}
	if e := <-ch; e.Message != "a" {
		t.Fatalf("first delivered %q, want a (later ones dropped)", e.Message)
	}
	cancel()
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel not closed after cancel")
	}
	r.Add(Entry{Message: "f"}) // must not panic on a closed subscriber
}

func TestParseFormat(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{{"text", true}, {"json", true}, {"", false}, {"JSON", false}} {
		if _, err := ParseFormat(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseFormat(%q) err = %v", tt.in, err)
		}
	}
}
