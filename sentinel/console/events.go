package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"wowlab/sentinel/store"
)

// eventKeepAlive is how often an idle event stream gets a comment, so
// that proxies and the browser keep it open.
const eventKeepAlive = 15 * time.Second

// jobEvent is the "job" event of the stream: a job of the user changed.
type jobEvent struct {
	ID                  string  `json:"id"`
	Status              string  `json:"status"`
	TotalIterations     int     `json:"total"`
	CompletedIterations int     `json:"completed"`
	Error               *string `json:"error"`
}

// nodeEvent is the "node" event: a node of the user changed or went.
type nodeEvent struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Op     string `json:"op"`
}

// serveEvents streams the user's job and node changes as server-sent
// events, from the store's change feed: "job" with the job's progress,
// "node" with a node's status, and "reset" when changes may have been
// lost (the page reloads).
func (c *Console) serveEvents(w http.ResponseWriter, r *http.Request) {
	user := sessionOf(r).user.ID
	sub := c.store.Subscribe(256)
	defer sub.Close()
	rc := http.NewResponseController(w)
	// The stream outlives the server's write timeout; it ends with the
	// request, the session or the console.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		c.log.Warn("console: event stream without an unbounded write deadline", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		data, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// Subscribed first, then summed up: a change after the sum comes as
	// an event, one before it shows in the sum.
	digest, err := c.stateDigest(r.Context(), user)
	if err != nil {
		c.log.Error("console: event stream", "err", err)
		return
	}
	if !send("state", map[string]string{"digest": digest}) {
		return
	}
	ping := time.NewTicker(eventKeepAlive)
	defer ping.Stop()
	expires := time.NewTimer(sessionOf(r).expires.Sub(c.clock.Now()))
	defer expires.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.closed:
			return
		case <-expires.C:
			send("reset", map[string]string{"reason": "session ended"})
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case n, ok := <-sub.C:
			if !ok {
				return
			}
			event, v, err := c.eventFor(r, user, n)
			if err != nil {
				c.log.Warn("console: event", "err", err)
				continue
			}
			if event != "" && !send(event, v) {
				return
			}
		}
	}
}

// eventFor turns a notification into the user's event, or "" when it is
// not about the user's jobs or nodes.
func (c *Console) eventFor(r *http.Request, user string, n store.Notification) (string, any, error) {
	if n.Kind == store.KindReset {
		return "reset", map[string]string{"reason": "changes may have been missed"}, nil
	}
	if n.Kind != store.KindChange {
		return "", nil, nil
	}
	ch := n.Change
	switch ch.Table {
	case "jobs":
		if ch.Old != nil && ch.Old["user_id"] != user {
			return "", nil, nil
		}
		rows, err := c.store.ReadRows(r.Context(), "jobs", []string{ch.ID})
		if err != nil {
			return "", nil, fmt.Errorf("read job: %w", err)
		}
		raw, ok := rows[ch.ID]
		if !ok {
			return "", nil, nil
		}
		var j struct {
			jobRow
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return "", nil, fmt.Errorf("decode job: %w", err)
		}
		if j.UserID != user {
			return "", nil, nil
		}
		return "job", jobEvent{ID: j.ID, Status: j.Status, TotalIterations: j.TotalIterations, CompletedIterations: j.CompletedIterations, Error: j.Error}, nil
	case "nodes":
		if ch.Op == "DELETE" {
			if ch.Old["user_id"] != user {
				return "", nil, nil
			}
			return "node", nodeEvent{ID: ch.ID, Op: ch.Op}, nil
		}
		rows, err := c.store.ReadRows(r.Context(), "nodes", []string{ch.ID})
		if err != nil {
			return "", nil, fmt.Errorf("read node: %w", err)
		}
		var nd struct {
			ID     string `json:"id"`
			UserID string `json:"user_id"`
			Status string `json:"status"`
		}
		raw, ok := rows[ch.ID]
		if !ok {
			return "", nil, nil
		}
		if err := json.Unmarshal(raw, &nd); err != nil {
			return "", nil, fmt.Errorf("decode node: %w", err)
		}
		if nd.UserID != user && (ch.Old == nil || ch.Old["user_id"] != user) {
			return "", nil, nil
		}
		return "node", nodeEvent{ID: nd.ID, Status: nd.Status, Op: ch.Op}, nil
	}
	return "", nil, nil
}
