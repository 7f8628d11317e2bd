package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"wowlab/supabase"
)

// Realtime topics of a node (PROTOCOL section 6), without the "realtime:" prefix.
func nodeTopic(id string) string   { return "node:" + id }
func chunksTopic(id string) string { return "chunks:" + id }

const presenceTopic = "nodes:presence"

// NodeRow is the part of a nodes row the node reacts to.
type NodeRow struct {
	ID          string  `json:"id"`
	UserID      *string `json:"user_id"`
	Name        string  `json:"name"`
	MaxParallel int     `json:"max_parallel"`
	Status      string  `json:"status"`
}

// Claimed reports whether the row has an owner.
func (r NodeRow) Claimed() bool { return r.UserID != nil && *r.UserID != "" }

// subscriptions are the callbacks of the node's realtime channels.
type subscriptions struct {
	nodeID     string
	onNode     func(NodeRow)
	onChunk    func(Chunk)
	log        *slog.Logger
	now        func() time.Time
	unreadable warnLimit // changes that cannot be decoded
}

// subscribe adds the three channels of the node to rt.
func (s *subscriptions) subscribe(ctx context.Context, rt *supabase.Realtime) error {
	id := s.nodeID
	if _, err := rt.Subscribe(nodeTopic(id), supabase.ChannelConfig{
		Changes: []supabase.ChangeBinding{{Event: "*", Schema: "public", Table: "nodes", Filter: "id=eq." + id, OnChange: s.nodeChange}},
	}); err != nil {
		return fmt.Errorf("subscribe to node changes: %w", err)
	}
	if _, err := rt.Subscribe(chunksTopic(id), supabase.ChannelConfig{
		Changes: []supabase.ChangeBinding{{Event: "*", Schema: "public", Table: "jobs_chunks", Filter: "node_id=eq." + id, OnChange: s.chunkChange}},
	}); err != nil {
		return fmt.Errorf("subscribe to chunk changes: %w", err)
	}
	// The node only announces itself: it keeps no view of the others, so
	// their presence changes, however many, queue nothing here.
	ch, err := rt.Subscribe(presenceTopic, supabase.ChannelConfig{
		Presence: supabase.PresenceConfig{Key: id, Enabled: true},
	})
	if err != nil {
		return fmt.Errorf("subscribe to presence: %w", err)
	}
	// Track is queued until the channel is joined and repeated after every rejoin.
	go func() {
		if err := ch.Track(ctx, map[string]string{"node_id": id}); err != nil && ctx.Err() == nil {
			s.log.Warn("presence track failed; it is sent again on the next join", "err", err)
		}
	}()
	return nil
}

// nodeChange handles a change of this node's row.
func (s *subscriptions) nodeChange(c supabase.Change) {
	if c.Type == supabase.ChangeDelete {
		return
	}
	var row NodeRow
	if err := json.Unmarshal(c.Record, &row); err != nil {
		s.unreadable.warn(s.log, s.now(), "ignoring unreadable node change", "err", err)
		return
	}
	if row.ID != s.nodeID {
		return
	}
	s.onNode(row)
}

// chunkChange recognises assignments: a change whose new row is running
// on this node.
func (s *subscriptions) chunkChange(c supabase.Change) {
	if c.Type == supabase.ChangeDelete {
		return
	}
	ch, ok, err := parseAssignment(c.Record, s.nodeID)
	if err != nil {
		s.unreadable.warn(s.log, s.now(), "ignoring unreadable chunk change", "type", c.Type, "err", err)
		return
	}
	if ok {
		s.onChunk(ch)
	}
}

// parseAssignment reads a jobs_chunks record and reports whether it assigns
// a chunk to nodeID; err says why a record cannot be read.
func parseAssignment(record json.RawMessage, nodeID string) (Chunk, bool, error) {
	var ch Chunk
	if err := json.Unmarshal(record, &ch); err != nil {
		return Chunk{}, false, fmt.Errorf("jobs_chunks record: %w", err)
	}
	if ch.Status != "running" || ch.NodeID != nodeID {
		return Chunk{}, false, nil
	}
	return ch, true, nil
}

// warnInterval is how often one kind of warning about the sentinel's input
// is logged at most.
const warnInterval = 10 * time.Second

// warnLimit logs one kind of warning caused by outside input at most once
// per warnInterval and counts the ones it held back, so a flood of bad
// frames cannot flood the log. The zero value is ready to use.
type warnLimit struct {
	mu   sync.Mutex
	next time.Time
	held int
}

// warn logs msg unless the last one was logged less than warnInterval ago;
// the next line logged says how many were held back meanwhile.
func (w *warnLimit) warn(log *slog.Logger, now time.Time, msg string, args ...any) {
	w.mu.Lock()
	if now.Before(w.next) {
		w.held++
		w.mu.Unlock()
		return
	}
	held := w.held
	w.held, w.next = 0, now.Add(warnInterval)
	w.mu.Unlock()
	if held > 0 {
		args = append(args, "similar_not_logged", held)
	}
	log.Warn(msg, args...)
}
