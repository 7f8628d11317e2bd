package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"wowlab/protocol"
)

// ResultsFile is the journal of finished results in the config directory:
// the results the sentinel has not taken yet, one JSON object a line.
const ResultsFile = "results.jsonl"

// MaxHeldResults bounds the results a node keeps for the sentinel. A node
// is given at most two chunks per worker at a time, so only a sentinel that
// keeps handing out work while it refuses results fills it; then the oldest
// result is dropped (its chunk is reassigned by the sentinel).
const MaxHeldResults = 1000

// Limits of reading the journal: one entry is about 300 bytes.
const (
	maxResultLine    = 4096
	maxResultsBytes  = MaxHeldResults * maxResultLine
	maxLoggedCorrupt = 10
)

// heldResult is a finished chunk whose result the sentinel has not taken.
type heldResult struct {
	Chunk      Chunk                `json:"chunk"`
	Result     protocol.ChunkResult `json:"result"`
	FinishedAt time.Time            `json:"finishedAt"`

	wake chan struct{} // an assignment of the chunk asks for a delivery attempt now
}

func newHeldResult(ch Chunk, res protocol.ChunkResult, at time.Time) *heldResult {
	return &heldResult{Chunk: Chunk{ID: ch.ID, Iterations: ch.Iterations, ConfigHash: ch.ConfigHash, SeedOffset: ch.SeedOffset},
		Result: res, FinishedAt: at, wake: make(chan struct{}, 1)}
}

// nudge asks the delivery of h for an attempt now. It never blocks.
func (h *heldResult) nudge() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// heldResults are the results waiting for the sentinel, in memory and in
// the journal file. The file is rewritten whole on every change (it holds
// a few entries), atomically and synced, so a crash or a power cut leaves
// the old list or the new one. It is safe for concurrent use.
type heldResults struct {
	path string
	log  *slog.Logger
	max  int // MaxHeldResults; tests lower it

	mu    sync.Mutex
	order []*heldResult // oldest first
}

// loadHeldResults reads the journal in dir. A missing file is an empty
// journal; unreadable entries are logged and skipped (and the file is
// rewritten without them).
func loadHeldResults(dir string, log *slog.Logger) (*heldResults, error) {
	h := &heldResults{path: filepath.Join(dir, ResultsFile), log: log, max: MaxHeldResults}
	f, err := os.Open(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open results journal: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxResultsBytes+1))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("read results journal: %w", err)
	}
	dirty := false
	if len(raw) > maxResultsBytes {
		log.Warn("results journal is larger than it can be; reading its beginning only", "path", h.path, "bytes_read", maxResultsBytes)
		raw, dirty = raw[:maxResultsBytes], true
	}
	byID := map[string]int{}
	corrupt := 0
	for n, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := parseHeldResult(line)
		if err != nil {
			if corrupt++; corrupt <= maxLoggedCorrupt {
				log.Warn("skipping an unreadable entry of the results journal", "path", h.path, "line", n+1, "err", err)
			}
			dirty = true
			continue
		}
		if i, ok := byID[e.Chunk.ID]; ok {
			h.order[i] = e // the later line is the newer result
			dirty = true
			continue
		}
		byID[e.Chunk.ID] = len(h.order)
		h.order = append(h.order, e)
	}
	if corrupt > maxLoggedCorrupt {
		log.Warn("more unreadable entries of the results journal skipped", "path", h.path, "entries", corrupt-maxLoggedCorrupt)
	}
	if over := len(h.order) - h.max; over > 0 {
		log.Warn("results journal holds more results than kept; dropping the oldest", "path", h.path, "dropped", over)
		h.order, dirty = h.order[over:], true
	}
	if dirty {
		if err := h.saveLocked(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// parseHeldResult reads one journal line and checks it could have come
// from a chunk this node ran.
func parseHeldResult(line []byte) (*heldResult, error) {
	if len(line) > maxResultLine {
		return nil, fmt.Errorf("entry has %d bytes, more than %d", len(line), maxResultLine)
	}
	var e heldResult
	if err := json.Unmarshal(line, &e); err != nil {
		return nil, err
	}
	if err := e.Chunk.validate(); err != nil {
		return nil, err
	}
	if err := e.Result.Validate(e.Chunk.Iterations); err != nil {
		return nil, fmt.Errorf("chunk %s: %w", e.Chunk.ID, err)
	}
	e.wake = make(chan struct{}, 1)
	return &e, nil
}

// add keeps e, replacing a result of the same chunk, and writes the
// journal. When the journal is full the oldest result is dropped and
// returned. The result is kept in memory even when writing fails.
func (h *heldResults) add(e *heldResult) (dropped *heldResult, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.order = slices.DeleteFunc(h.order, func(o *heldResult) bool { return o.Chunk.ID == e.Chunk.ID })
	h.order = append(h.order, e)
	if len(h.order) > h.max {
		dropped = h.order[0]
		h.order = slices.Delete(h.order, 0, 1)
	}
	return dropped, h.saveLocked()
}

// remove forgets e (not a newer result of its chunk) and writes the
// journal; it reports whether e was held.
func (h *heldResults) remove(e *heldResult) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.Index(h.order, e)
	if i < 0 {
		return false, nil
	}
	h.order = slices.Delete(h.order, i, i+1)
	return true, h.saveLocked()
}

// get returns the held result of a chunk, or nil.
func (h *heldResults) get(id string) *heldResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.order {
		if e.Chunk.ID == id {
			return e
		}
	}
	return nil
}

// list returns the held results, oldest first.
func (h *heldResults) list() []*heldResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.order)
}

// saveLocked writes the journal (mode 0600), or removes it when empty.
func (h *heldResults) saveLocked() error {
	if len(h.order) == 0 {
		if err := os.Remove(h.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove results journal: %w", err)
		}
		return nil
	}
	var buf bytes.Buffer
	for _, e := range h.order {
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode held result: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := writeFileAtomic(h.path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write results journal: %w", err)
	}
	return nil
}
