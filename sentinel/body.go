package sentinel

// Reading request bodies within bounds: each route's own size limit,
// refused before a byte is read when the declared length is over it, and
// one budget for the bytes of bodies being read at once across all
// requests, so that many slow uploads cannot grow the process without end.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxBodyMemory is the default budget of request body bytes held at
// once (Config.MaxBodyMemory).
const DefaultMaxBodyMemory = 64 << 20

// Refusals of ReadBody; the error wraps one of them.
var (
	// ErrBodyTooLarge is a body over its route's limit.
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrBodyBudget means the bodies being read at once hold the whole
	// budget: the caller should try again in a moment (503).
	ErrBodyBudget = errors.New("the server is reading too many request bodies at once; try again shortly")
)

// bodyBudget counts the bytes of bodies read and not yet released.
type bodyBudget struct {
	mu    sync.Mutex
	used  int64
	max   int64
	gauge prometheus.Gauge
}

func (b *bodyBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	b.gauge.Set(float64(b.used))
	return true
}

func (b *bodyBudget) give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.gauge.Set(float64(b.used))
}

// bodyChunk is how much of a body is read, and taken from the budget, at a
// time: a slow sender holds only what it has sent.
const bodyChunk = 32 << 10

// ReadBody reads r's body of at most limit bytes. A Content-Length over the
// limit is refused before reading; a body that turns out longer is refused
// when it passes the limit. The bytes read count against the service's
// budget (Config.MaxBodyMemory) until release is called, which the caller
// does when done with the body; on error nothing stays taken.
func (s *Service) ReadBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, release func(), err error) {
	if r.ContentLength > limit {
		return nil, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBodyTooLarge, r.ContentLength, limit)
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	var taken int64
	giveBack := func() { s.bodies.give(taken) }
	buf := make([]byte, 0, min(max(r.ContentLength, 512), bodyChunk))
	for {
		if len(buf) == cap(buf) {
			grow := min(int64(cap(buf)), limit+1-int64(len(buf)), bodyChunk)
			buf = append(buf, make([]byte, max(grow, 1))...)[:len(buf)]
		}
		if free := int64(cap(buf)) - taken; free > 0 {
			if !s.bodies.take(free) {
				giveBack()
				return nil, nil, ErrBodyBudget
			}
			taken += free
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, giveBack, nil
		}
		if err != nil {
			giveBack()
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
			}
			return nil, nil, fmt.Errorf("read request body: %w", err)
		}
	}
}
