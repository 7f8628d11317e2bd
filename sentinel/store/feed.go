package store

import (
	"sync"
	"time"
)

// Kind tells what a Notification is about.
type Kind int

const (
	// KindChange is a row change of nodes, jobs or jobs_chunks.
	KindChange Kind = iota + 1
	// KindPendingChunk is a chunk that became pending with no node, or a
	// job with unassigned work (ChunkID then holds the job's id).
	KindPendingChunk
	// KindReset means notifications may have been lost (the listening
	// connection was re-established, or the subscriber fell behind): re-read
	// whatever state you mirror, and let the scheduler sweep.
	KindReset
)

// Change is one row change. Old holds, for UPDATE and DELETE, the old row's
// primary key ("id") and the key columns used to route changes (nodes:
// user_id; jobs: user_id, status; jobs_chunks: job_id, node_id, status),
// with JSON types (strings, or nil for NULL). It is nil for INSERT. Read the
// new row with Store.ReadRows.
type Change struct {
	Table string         // nodes, jobs or jobs_chunks
	Op    string         // INSERT, UPDATE or DELETE
	ID    string         // the row's id
	Old   map[string]any // old key columns; nil for INSERT
	At    time.Time      // when the database made the change
}

// Notification is one event of a Subscription.
type Notification struct {
	Kind    Kind
	Change  Change // for KindChange
	ChunkID string // for KindPendingChunk
}

// Feed fans notifications out to subscriptions. The zero value is ready.
// Store implementations publish into one.
type Feed struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription receives notifications on C until closed. A subscriber that
// falls behind loses notifications and then receives one KindReset.
type Subscription struct {
	// C delivers notifications in the order they arrived.
	C    <-chan Notification
	c    chan Notification
	feed *Feed
	lost bool // guarded by feed.mu
}

// Subscribe adds a subscription with room for buffer waiting notifications
// (at least 1).
func (f *Feed) Subscribe(buffer int) *Subscription {
	if buffer < 1 {
		buffer = 1
	}
	c := make(chan Notification, buffer)
	s := &Subscription{C: c, c: c, feed: f}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = make(map[*Subscription]struct{})
	}
	f.subs[s] = struct{}{}
	return s
}

// Close ends the subscription and closes C.
func (s *Subscription) Close() {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	if _, ok := s.feed.subs[s]; ok {
		delete(s.feed.subs, s)
		close(s.c)
	}
}

// Publish delivers n to every subscription without blocking.
func (f *Feed) Publish(n Notification) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		if s.lost {
			select {
			case s.c <- Notification{Kind: KindReset}:
				s.lost = false
			default:
				continue
			}
		}
		select {
		case s.c <- n:
		default:
			s.lost = true
		}
	}
}
