package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// session is one WebSocket connection of a Realtime: its reader, its
// heartbeat, its channel joins and the pushes waiting for replies. It ends
// (ctx cancelled with a cause) at the first socket failure.
type session struct {
	r    *Realtime
	n    uint64
	conn *websocket.Conn
	d    *dispatcher
	ctx  context.Context
	fail context.CancelCauseFunc
	wg   sync.WaitGroup

	mu      sync.Mutex
	ref     uint64
	pending map[string]*pendingReply

	// closing is set (under r.mu) before wg.Wait; no goroutine is started
	// after it.
	closing bool
}

// pendingReply is a push waiting for its phx_reply. onReply, when set,
// runs on the reader before the reply is handed over, so that state it sets
// (a join's server ids) is in place before the next frame is read.
type pendingReply struct {
	ch      chan Reply
	onReply func(Reply)
}

// runSession dials, runs one socket until it fails or ctx ends, and
// returns when every goroutine of the socket has ended. connectedAt is zero
// when the dial failed.
func (r *Realtime) runSession(ctx context.Context, n uint64, d *dispatcher) (connectedAt time.Time, err error) {
	dialCtx, cancelDial := context.WithTimeout(ctx, r.replyTO)
	conn, _, err := websocket.Dial(dialCtx, r.wsURL, &websocket.DialOptions{HTTPClient: r.opts.HTTPClient})
	cancelDial()
	if err != nil {
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		return time.Time{}, &NetworkError{Op: "dial realtime", Err: err}
	}
	conn.SetReadLimit(r.maxBytes)
	connectedAt = r.clock.Now()
	sctx, fail := context.WithCancelCause(ctx)
	s := &session{r: r, n: n, conn: conn, d: d, ctx: sctx, fail: fail, pending: make(map[string]*pendingReply)}
	r.log.Debug("realtime socket up", "session", n, "url", r.wsURL)
	r.emit(d, Status{Kind: StatusConnected, Session: n})

	r.mu.Lock()
	r.sess = s
	s.wg.Go(s.readLoop)
	s.wg.Go(s.heartbeatLoop)
	for _, ch := range r.channels {
		s.startJoin(ch, 0)
	}
	r.mu.Unlock()

	<-sctx.Done()
	cause := context.Cause(sctx)

	r.mu.Lock()
	s.closing = true
	r.sess = nil
	for _, ch := range r.channels {
		if ch.sess == s {
			ch.sess, ch.joinRef, ch.serverIDs = nil, "", nil
		}
		if ch.joining == s {
			ch.joining = nil
		}
	}
	r.mu.Unlock()

	// The reader's context is s.ctx, so the socket is closed already or is
	// being closed; CloseNow makes sure and waits for coder's goroutines.
	_ = conn.CloseNow()
	s.wg.Wait()
	if ctx.Err() != nil {
		return connectedAt, ctx.Err()
	}
	return connectedAt, cause
}

// nextRef returns a fresh ref, unique within the socket.
func (s *session) nextRef() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ref++
	return strconv.FormatUint(s.ref, 10)
}

// send writes one message. A write failure or timeout ends the socket.
func (s *session) send(m Message) error {
	data, err := s.r.opts.Serializer.Encode(m)
	if err != nil {
		return err
	}
	// A write that cannot finish within the reply timeout means a dead
	// peer; coder/websocket closes the socket when the write context ends.
	ctx, cancel := context.WithTimeout(s.ctx, s.r.replyTO)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, data); err != nil {
		if s.ctx.Err() != nil {
			return ErrNotConnected
		}
		nerr := &NetworkError{Op: "realtime write", Err: err}
		s.fail(nerr)
		return nerr
	}
	return nil
}

// register records a push waiting for the reply with ref.
func (s *session) register(ref string, onReply func(Reply)) chan Reply {
	ch := make(chan Reply, 1)
	s.mu.Lock()
	s.pending[ref] = &pendingReply{ch: ch, onReply: onReply}
	s.mu.Unlock()
	return ch
}

func (s *session) unregister(ref string) {
	s.mu.Lock()
	delete(s.pending, ref)
	s.mu.Unlock()
}

// request sends m (whose Ref must be set) and waits for its reply, ctx,
// the socket's end or the reply timeout.
func (s *session) request(ctx context.Context, m Message, onReply func(Reply)) (Reply, error) {
	ch := s.register(m.Ref, onReply)
	if err := s.send(m); err != nil {
		s.unregister(m.Ref)
		return Reply{}, err
	}
	select {
	case rep := <-ch:
		return rep, nil
	case <-ctx.Done():
		s.unregister(m.Ref)
		return Reply{}, ctx.Err()
	case <-s.ctx.Done():
		return Reply{}, ErrNotConnected
	case <-s.r.clock.After(s.r.replyTO):
		s.unregister(m.Ref)
		return Reply{}, ErrReplyTimeout
	}
}

// pushPresence sends a presence track or untrack and checks the reply.
func (s *session) pushPresence(ctx context.Context, topic, joinRef, event string, payload json.RawMessage) error {
	body, err := jsonMarshal(PresencePush{Type: "presence", Event: event, Payload: payload})
	if err != nil {
		return err
	}
	reply, err := s.request(ctx, Message{JoinRef: joinRef, Ref: s.nextRef(), Topic: topic, Event: "presence", Payload: body}, nil)
	if err != nil {
		return fmt.Errorf("supabase: realtime: presence %s on %s: %w", event, topic, err)
	}
	if reply.Status != "ok" {
		return fmt.Errorf("supabase: realtime: presence %s on %s: %w", event, topic, replyError(topic, reply))
	}
	return nil
}

// heartbeatLoop sends a heartbeat every interval and ends the socket when
// the previous one got no reply.
func (s *session) heartbeatLoop() {
	var last chan Reply
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.r.clock.After(s.r.hbEvery):
		}
		if last != nil {
			select {
			case <-last:
			default:
				s.r.log.Warn("realtime heartbeat not answered; reconnecting", "session", s.n)
				s.fail(ErrHeartbeatTimeout)
				return
			}
		}
		ref := s.nextRef()
		last = s.register(ref, nil)
		if err := s.send(Message{Ref: ref, Topic: "phoenix", Event: "heartbeat", Payload: json.RawMessage("{}")}); err != nil {
			return
		}
	}
}

// readLoop reads frames until the socket fails.
func (s *session) readLoop() {
	for {
		typ, data, err := s.conn.Read(s.ctx)
		if err != nil {
			if s.ctx.Err() == nil {
				s.fail(&NetworkError{Op: "realtime read", Err: err})
			}
			return
		}
		if typ != websocket.MessageText {
			s.r.log.Debug("realtime: ignoring binary frame", "bytes", len(data))
			continue
		}
		m, err := s.r.opts.Serializer.Decode(data)
		if err != nil {
			s.r.log.Warn("realtime: ignoring bad frame", "err", err)
			continue
		}
		s.handle(m)
	}
}

// handle routes one incoming message.
func (s *session) handle(m Message) {
	if m.Event == "phx_reply" {
		var rep Reply
		if err := json.Unmarshal(m.Payload, &rep); err != nil {
			s.r.log.Warn("realtime: ignoring bad reply", "topic", m.Topic, "err", err)
			return
		}
		s.mu.Lock()
		p := s.pending[m.Ref]
		delete(s.pending, m.Ref)
		s.mu.Unlock()
		if p == nil {
			return
		}
		if p.onReply != nil {
			p.onReply(rep)
		}
		p.ch <- rep
		return
	}

	r := s.r
	r.mu.Lock()
	ch := r.channels[m.Topic]
	if ch == nil || ch.sess != s || (m.JoinRef != "" && m.JoinRef != ch.joinRef) {
		r.mu.Unlock()
		r.log.Debug("realtime: message for no joined channel", "topic", m.Topic, "event", m.Event)
		return
	}
	ids := ch.serverIDs
	r.mu.Unlock()
	cfg := &ch.cfg

	switch m.Event {
	case "postgres_changes":
		var p ChangePayload
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			r.log.Warn("realtime: ignoring bad postgres_changes", "topic", m.Topic, "err", err)
			return
		}
		matched := false
		for i, b := range cfg.Changes {
			if i < len(ids) && slices.Contains(p.IDs, ids[i]) {
				matched = true
				f, change := b.OnChange, p.Data
				s.d.enqueue(func() { f(change) })
			}
		}
		if !matched {
			r.log.Debug("realtime: postgres_changes matched no binding", "topic", m.Topic, "ids", p.IDs)
		}
	case "presence_state":
		var p PresenceState
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			r.log.Warn("realtime: ignoring bad presence_state", "topic", m.Topic, "err", err)
			return
		}
		if f := cfg.OnPresenceState; f != nil {
			s.d.enqueue(func() { f(p) })
		}
	case "presence_diff":
		var p PresenceDiff
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			r.log.Warn("realtime: ignoring bad presence_diff", "topic", m.Topic, "err", err)
			return
		}
		if f := cfg.OnPresenceDiff; f != nil {
			s.d.enqueue(func() { f(p) })
		}
	case "system":
		var p SystemMessage
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			r.log.Warn("realtime: ignoring bad system message", "topic", m.Topic, "err", err)
			return
		}
		if f := cfg.OnSystem; f != nil {
			s.d.enqueue(func() { f(p) })
		}
		if p.Status == "error" {
			r.log.Warn("realtime: system error on channel", "topic", m.Topic, "message", p.Message)
			r.emit(s.d, Status{Kind: StatusChannelError, Session: s.n, Topic: m.Topic,
				Err: &ChannelError{Topic: m.Topic, Event: "system", Reason: p.Message}})
		}
	case "phx_close", "phx_error":
		var reason ErrorResponse
		_ = json.Unmarshal(m.Payload, &reason) // the reason is optional
		delay := r.backoff.Delay(0)
		err := &ChannelError{Topic: m.Topic, Event: m.Event, Reason: reason.Reason}
		r.mu.Lock()
		if ch.sess == s && !ch.left {
			ch.sess, ch.joinRef, ch.serverIDs = nil, "", nil
			s.startJoin(ch, delay)
		}
		r.mu.Unlock()
		r.log.Warn("realtime: channel dropped by server; rejoining", "topic", m.Topic, "event", m.Event, "retry_in", delay)
		r.emit(s.d, Status{Kind: StatusChannelError, Session: s.n, Topic: m.Topic, Err: err, RetryIn: delay})
	default:
		if f := cfg.OnMessage; f != nil {
			s.d.enqueue(func() { f(m) })
		}
	}
}

// startJoin starts the join loop of ch on s unless one runs already. The
// loop first waits delay (a rejoin after the server dropped the channel).
// Called with r.mu held.
func (s *session) startJoin(ch *Channel, delay time.Duration) {
	if s.closing || ch.left || ch.joining == s || ch.sess == s {
		return
	}
	ch.joining = s
	s.wg.Go(func() { s.joinLoop(ch, delay) })
}

// joinLoop joins ch, retrying with backoff while the server refuses, until
// it is joined, left, or the socket ends. It owns ch.joining while it runs.
func (s *session) joinLoop(ch *Channel, delay time.Duration) {
	r := s.r
	// done releases ch.joining if the channel needs no more joining on s;
	// otherwise (it was dropped again meanwhile) the loop goes on.
	done := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if ch.left || ch.sess == s || s.ctx.Err() != nil {
			ch.joining = nil
			return true
		}
		return false
	}
	for attempt := 0; ; attempt++ {
		if sleep(s.ctx, r.clock, delay) != nil {
			done()
			return
		}
		err := s.join(ch)
		if done() {
			return
		}
		if err == nil {
			// Joined, then dropped by the server before this loop ended.
			delay = r.backoff.Delay(0)
			continue
		}
		delay = r.backoff.Delay(attempt)
		r.log.Warn("realtime: join failed", "topic", ch.topic, "err", err, "retry_in", delay)
		r.emit(s.d, Status{Kind: StatusChannelError, Session: s.n, Topic: ch.topic, Err: err, RetryIn: delay})
	}
}

// join sends one phx_join for ch and, once joined, its tracked presence.
func (s *session) join(ch *Channel) error {
	r := s.r
	r.mu.Lock()
	if ch.left {
		r.mu.Unlock()
		return errLeft
	}
	payload, err := ch.joinPayload(r.token)
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("supabase: realtime: join %s: %w", ch.topic, err)
	}
	joinRef := s.nextRef()
	var joinErr error
	onReply := func(rep Reply) {
		// Runs on the reader: the channel is joined before the next frame
		// (presence_state, system, changes) is routed.
		if rep.Status != "ok" {
			joinErr = replyError(ch.topic, rep)
			return
		}
		ids, err := ch.matchBindings(rep.Response)
		if err != nil {
			joinErr = &ChannelError{Topic: ch.topic, Event: "phx_reply", Reason: err.Error()}
			return
		}
		r.mu.Lock()
		if ch.left {
			r.mu.Unlock()
			joinErr = errLeft
			return
		}
		ch.sess, ch.joinRef, ch.serverIDs = s, joinRef, ids
		r.mu.Unlock()
		r.emit(s.d, Status{Kind: StatusSubscribed, Session: s.n, Topic: ch.topic})
	}
	if _, err := s.request(s.ctx, Message{JoinRef: joinRef, Ref: joinRef, Topic: ch.topic, Event: "phx_join", Payload: payload}, onReply); err != nil {
		return fmt.Errorf("supabase: realtime: join %s: %w", ch.topic, err)
	}
	if errors.Is(joinErr, errLeft) {
		// Left while the join was in flight: the server has it joined now.
		_ = s.send(Message{JoinRef: joinRef, Ref: s.nextRef(), Topic: ch.topic, Event: "phx_leave", Payload: json.RawMessage("{}")})
	}
	if joinErr != nil {
		return joinErr
	}
	r.log.Debug("realtime channel joined", "topic", ch.topic, "session", s.n)
	r.mu.Lock()
	presence, joined := ch.presence, ch.sess == s && ch.joinRef == joinRef
	r.mu.Unlock()
	if joined && presence != nil {
		if err := s.pushPresence(s.ctx, ch.topic, joinRef, "track", presence); err != nil && s.ctx.Err() == nil {
			r.log.Warn("realtime: presence track after join failed", "topic", ch.topic, "err", err)
		}
	}
	return nil
}
