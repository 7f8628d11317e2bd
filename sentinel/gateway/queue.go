package gateway

// The frames waiting to be written to one socket. A burst (a job of
// thousands of chunks) may queue many frames at once, which a client that
// keeps reading drains in moments; what marks a client too slow is the
// bytes waiting and how long the oldest has waited, never how many frames
// there are.

import (
	"fmt"
	"sync"
	"time"
)

// sendQueue is a FIFO of frames bounded by bytes and by the age of its
// oldest frame. Safe for concurrent use.
type sendQueue struct {
	maxBytes int
	maxDelay time.Duration

	mu     sync.Mutex
	frames [][]byte
	times  []time.Time // when each frame was queued
	head   int
	bytes  int
	wake   chan struct{} // capacity 1: a frame is waiting
}

func newSendQueue(maxBytes int, maxDelay time.Duration) *sendQueue {
	return &sendQueue{maxBytes: maxBytes, maxDelay: maxDelay, wake: make(chan struct{}, 1)}
}

// push queues a frame at now. It refuses, saying why, when the frame would
// take the queue over its bytes or the oldest frame has waited too long:
// the client reads slower than it is sent to.
func (q *sendQueue) push(frame []byte, now time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head < len(q.frames) {
		if waited := now.Sub(q.times[q.head]); waited > q.maxDelay {
			return fmt.Errorf("slow consumer: a frame waited %v to be read (limit %v)", waited.Round(time.Millisecond), q.maxDelay)
		}
	}
	if q.bytes+len(frame) > q.maxBytes {
		return fmt.Errorf("slow consumer: more than %d bytes waiting to be read", q.maxBytes)
	}
	q.frames = append(q.frames, frame)
	q.times = append(q.times, now)
	q.bytes += len(frame)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// pop takes the oldest frame, or reports that none is waiting.
func (q *sendQueue) pop() ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.frames) {
		return nil, false
	}
	f := q.frames[q.head]
	q.frames[q.head] = nil
	q.head++
	q.bytes -= len(f)
	switch {
	case q.head == len(q.frames):
		// Empty: start over, keeping the arrays unless a burst grew them.
		q.head = 0
		if cap(q.frames) > 4096 {
			q.frames, q.times = nil, nil
		} else {
			q.frames, q.times = q.frames[:0], q.times[:0]
		}
	case q.head >= 1024 && q.head*2 >= len(q.frames):
		// Never empty for long: move the rest down so the arrays do not
		// grow with everything ever sent.
		n := copy(q.frames, q.frames[q.head:])
		copy(q.times, q.times[q.head:])
		clear(q.frames[n:])
		q.frames, q.times, q.head = q.frames[:n], q.times[:n], 0
	}
	return f, true
}

// waiting returns the frames and bytes queued.
func (q *sendQueue) waiting() (frames, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.frames) - q.head, q.bytes
}
