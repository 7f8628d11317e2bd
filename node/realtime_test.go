package node

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"wowlab/internal/clock"
	"wowlab/supabase"
)

// logBuffer collects log lines; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Unreadable chunk and node records are logged, not dropped silently; a
// flood of them gives one line per interval that counts the rest.
func TestUnreadableChangesAreLogged(t *testing.T) {
	var logs logBuffer
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var got []Chunk
	s := &subscriptions{nodeID: testNodeID, log: logs.logger(), now: clk.Now,
		onChunk: func(c Chunk) { got = append(got, c) }, onNode: func(NodeRow) { t.Error("unreadable node row delivered") }}
	for _, rec := range []string{`{"id":5}`, `[1,2`, `{"iterations":"many"}`} {
		s.chunkChange(supabase.Change{Type: supabase.ChangeUpdate, Record: json.RawMessage(rec)})
	}
	if len(got) != 0 {
		t.Fatalf("unreadable records delivered as %+v", got)
	}
	if n := strings.Count(logs.String(), "ignoring unreadable chunk change"); n != 1 {
		t.Fatalf("%d lines for three unreadable records in one interval, want 1:\n%s", n, logs.String())
	}
	clk.Advance(warnInterval)
	s.nodeChange(supabase.Change{Type: supabase.ChangeUpdate, Record: json.RawMessage(`{"max_parallel":"x"}`)})
	if out := logs.String(); !strings.Contains(out, "ignoring unreadable node change") || !strings.Contains(out, "similar_not_logged=2") {
		t.Fatalf("after the interval: %s", out)
	}
	// A readable assignment still gets through.
	s.chunkChange(supabase.Change{Type: supabase.ChangeUpdate, Record: json.RawMessage(
		`{"id":"0b5a3c1e-8d7f-4e26-9a51-3c2d1e0f9a88","node_id":"` + testNodeID + `","status":"running","iterations":5,"config_hash":"h","seed_offset":0}`)})
	if len(got) != 1 || got[0].ID != "0b5a3c1e-8d7f-4e26-9a51-3c2d1e0f9a88" {
		t.Fatalf("assignment %+v", got)
	}
}
