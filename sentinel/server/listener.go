package server

// A listener that caps the connections open at once. Over the cap a new
// connection is not left waiting in the kernel's queue (which only delays
// the failure, and at a low file limit makes accept itself fail): it is
// answered 503 with Retry-After and closed. A few connections beyond the
// cap are kept for GET /status, so an operator can see why.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// triageTimeout bounds how long a connection over the cap may take to send
// its request line.
const triageTimeout = 2 * time.Second

// maxTriage bounds the connections over the cap being answered at once;
// beyond it they are closed unanswered.
const maxTriage = 256

// busyRetryAfter is the Retry-After of the refusal, in seconds.
const busyRetryAfter = 5

// busyResponse answers a connection over the cap. The body carries both
// the node API's "error" and PostgREST's fields, so every client reads it;
// 53300 is PostgreSQL's too_many_connections.
var busyResponse = func() []byte {
	body := `{"error":"Too many connections: try again later","code":"53300","message":"Too many connections: try again later","details":null,"hint":null}`
	return fmt.Appendf(nil, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: %d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		busyRetryAfter, len(body), body)
}()

// capListener admits at most max connections at once, and reserve more
// for GET /status.
type capListener struct {
	net.Listener
	max, reserve int
	log          *slog.Logger

	mu   sync.Mutex
	open int // admitted, reserve included

	triage   chan struct{} // capacity maxTriage
	refused  atomic.Int64
	ready    chan net.Conn
	stop     chan struct{}
	stopOnce sync.Once
	errMu    sync.Mutex
	err      error // the inner listener's final error
	started  sync.Once
}

func newCapListener(ln net.Listener, max, reserve int, log *slog.Logger) *capListener {
	return &capListener{Listener: ln, max: max, reserve: reserve, log: log,
		triage: make(chan struct{}, maxTriage), ready: make(chan net.Conn), stop: make(chan struct{})}
}

// Accept returns the next admitted connection.
func (l *capListener) Accept() (net.Conn, error) {
	l.started.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.stop:
		l.errMu.Lock()
		defer l.errMu.Unlock()
		if l.err == nil {
			return nil, net.ErrClosed
		}
		return nil, l.err
	}
}

// Close stops accepting.
func (l *capListener) Close() error {
	err := l.Listener.Close()
	l.stopOnce.Do(func() { close(l.stop) })
	return err
}

// acceptLoop accepts until the inner listener fails for good, admitting,
// triaging or refusing each connection.
func (l *capListener) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTooManyFiles(err) {
				// Out of file descriptors, or a passing error: wait and
				// go on, as net/http does, instead of spinning.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				l.log.Warn("accept failed; retrying", "err", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
					continue
				case <-l.stop:
					return
				}
			}
			l.errMu.Lock()
			l.err = err
			l.errMu.Unlock()
			l.stopOnce.Do(func() { close(l.stop) })
			return
		}
		backoff = 0
		l.mu.Lock()
		over := l.open >= l.max
		if l.open < l.max+l.reserve {
			l.open++
		} else {
			over = true
			c = &refusedConn{Conn: c} // no slot: answered, never admitted
		}
		l.mu.Unlock()
		if !over {
			l.deliver(&trackedConn{Conn: c, l: l})
			continue
		}
		select {
		case l.triage <- struct{}{}:
			go l.triageConn(c)
		default:
			l.release(c)
			_ = c.Close()
		}
	}
}

// deliver hands an admitted connection to Accept.
func (l *capListener) deliver(c net.Conn) {
	select {
	case l.ready <- c:
	case <-l.stop:
		_ = c.Close()
	}
}

// release gives a slot back, unless c never had one.
func (l *capListener) release(c net.Conn) {
	if _, ok := c.(*refusedConn); ok {
		return
	}
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
}

// triageConn reads the request line of a connection over the cap: GET
// /status goes in on a reserved slot when it holds one; anything else is
// answered 503.
func (l *capListener) triageConn(c net.Conn) {
	defer func() { <-l.triage }()
	_ = c.SetDeadline(time.Now().Add(triageTimeout))
	br := bufio.NewReaderSize(c, 1024)
	line, _ := br.Peek(len("HEAD /status "))
	_, refused := c.(*refusedConn)
	if !refused && isStatusRequest(line) {
		_ = c.SetDeadline(time.Time{})
		l.deliver(&trackedConn{Conn: &peekedConn{Conn: c, r: br}, l: l})
		return
	}
	if n := l.refused.Add(1); n&(n-1) == 0 { // 1, 2, 4, 8...: a trace, not a flood
		l.log.Warn("connections refused: over the cap", "max_connections", l.max, "refused", n)
	}
	_, _ = c.Write(busyResponse)
	l.release(c)
	_ = c.Close()
}

// isStatusRequest reports whether a request line starts GET or HEAD
// /status.
func isStatusRequest(line []byte) bool {
	for _, p := range []string{"GET /status ", "GET /status?", "HEAD /status ", "HEAD /status?"} {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}

// trackedConn gives its slot back once closed.
type trackedConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.Conn) })
	return err
}

// refusedConn marks a connection that holds no slot.
type refusedConn struct{ net.Conn }

// peekedConn reads first what triage peeked.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
