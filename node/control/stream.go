package control

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"wowlab/internal/logging"
	"wowlab/node"
)

// pingEvery keeps a quiet stream alive through proxies and lets the
// server notice a client that left.
const pingEvery = 15 * time.Second

// streamLogs sends server-sent events "log", one per log entry: the last
// backlog= entries first (default 0), then new ones as they are logged;
// level= filters.
func (s *Server) streamLogs(w http.ResponseWriter, r *http.Request) {
	backlog, level, ok := logQuery(w, r, "backlog", 0)
	if !ok {
		return
	}
	if s.opts.Logs == nil {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "this node keeps no log entries"})
		return
	}
	// Subscribe before reading the backlog, so nothing falls in between.
	ch, cancel := s.opts.Logs.Subscribe(256)
	defer cancel()
	var first []logging.Entry
	for _, e := range s.opts.Logs.Recent() {
		if e.Level >= level {
			first = append(first, e)
		}
	}
	first = first[max(0, len(first)-backlog):]
	keep := func(e logging.Entry) bool { return e.Level >= level }
	stream(s, w, r, "log", first, ch, keep, func(e logging.Entry) any { return e })
}

// streamEvents sends server-sent events "node", one per event of the node
// (Event), so a dashboard updates at once instead of polling the status.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	ch, cancel := s.node.Subscribe(256)
	defer cancel()
	stream(s, w, r, "node", nil, ch, func(node.Event) bool { return true }, func(e node.Event) any { return eventOf(e) })
}

// stream writes backlog and then what arrives on ch as server-sent events
// named name, until the client leaves, ch closes or the server stops.
func stream[T any](s *Server, w http.ResponseWriter, r *http.Request, name string, backlog []T, ch <-chan T, keep func(T) bool, conv func(T) any) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(v T) error {
		b, err := json.Marshal(conv(v))
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if _, err := fmt.Fprint(w, ": stream open\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	for _, v := range backlog {
		if send(v) != nil {
			return
		}
	}
	ping := s.clock.After(pingEvery)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case v, ok := <-ch:
			if !ok {
				return
			}
			if keep(v) && send(v) != nil {
				return
			}
		case <-ping:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
			ping = s.clock.After(pingEvery)
		}
	}
}
