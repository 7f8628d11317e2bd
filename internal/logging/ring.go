package logging

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Entry is one log record as a UI shows it.
type Entry struct {
	Time    time.Time  `json:"time"`
	Level   slog.Level `json:"level"`
	Message string     `json:"message"`
	Attrs   []Attr     `json:"attrs,omitempty"`
}

// Attr is one key/value pair of an Entry, the value already formatted.
type Attr struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Ring keeps the most recent log entries in memory and passes new ones to
// subscribers. A slow subscriber loses entries rather than slowing the
// logger. It is safe for concurrent use.
type Ring struct {
	mu      sync.Mutex
	buf     []Entry
	next    int
	full    bool
	subs    map[int]chan Entry
	nextSub int
}

// NewRing returns a ring holding up to size entries (at least 1).
func NewRing(size int) *Ring {
	return &Ring{buf: make([]Entry, max(1, size)), subs: map[int]chan Entry{}}
}

// Add stores e and offers it to every subscriber without blocking.
func (r *Ring) Add(e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = e
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
	for _, ch := range r.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Recent returns the stored entries, oldest first.
func (r *Ring) Recent() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return slices.Clone(r.buf[:r.next])
	}
	return append(slices.Clone(r.buf[r.next:]), r.buf[:r.next]...)
}

// Subscribe returns a channel of new entries (buffered with buf slots) and
// a function that ends the subscription and closes the channel.
func (r *Ring) Subscribe(buf int) (<-chan Entry, func()) {
	ch := make(chan Entry, max(1, buf))
	r.mu.Lock()
	id := r.nextSub
	r.nextSub++
	r.subs[id] = ch
	r.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.subs, id)
			r.mu.Unlock()
			close(ch)
		})
	}
}

// Handler returns an slog.Handler that records into the ring entries at
// level or above.
func (r *Ring) Handler(level slog.Leveler) slog.Handler {
	return &ringHandler{ring: r, level: level}
}

type ringHandler struct {
	ring   *Ring
	level  slog.Leveler
	attrs  []Attr
	prefix string
}

func (h *ringHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *ringHandler) Handle(_ context.Context, rec slog.Record) error {
	e := Entry{Time: rec.Time, Level: rec.Level, Message: rec.Message, Attrs: slices.Clone(h.attrs)}
	rec.Attrs(func(a slog.Attr) bool {
		e.Attrs = appendAttr(e.Attrs, h.prefix, a)
		return true
	})
	h.ring.Add(e)
	return nil
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = slices.Clone(h.attrs)
	for _, a := range as {
		n.attrs = appendAttr(n.attrs, h.prefix, a)
	}
	return &n
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

func appendAttr(dst []Attr, prefix string, a slog.Attr) []Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			dst = appendAttr(dst, p, g)
		}
		return dst
	}
	if a.Key == "" {
		return dst
	}
	return append(dst, Attr{Key: prefix + a.Key, Value: fmt.Sprint(v.Any())})
}
