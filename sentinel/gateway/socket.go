package gateway

// One Realtime WebSocket: a reader goroutine, a writer goroutine draining a
// send queue bounded by bytes and time, and a loop (the HTTP handler's goroutine) that owns
// the socket's channels and handles every client message in order.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"wowlab/sentinel"
	"wowlab/sentinel/store"
)

// Close codes the server uses.
const (
	statusGoingAway     = websocket.StatusGoingAway       // shutdown, heartbeat timeout
	statusPolicy        = websocket.StatusPolicyViolation // limits
	statusInvalidFrame  = websocket.StatusInvalidFramePayloadData
	statusUnsupported   = websocket.StatusUnsupportedData // binary frames
	statusRestart       = websocket.StatusServiceRestart  // reconnect: the caller's rights changed
	maxCloseReasonBytes = 120
)

// presenceTopic is where nodes track presence; it feeds liveness.
const presenceTopic = topicPrefix + "nodes:presence"

type socket struct {
	g      *Gateway
	conn   *websocket.Conn
	codec  codec
	apikey string

	out    *sendQueue
	in     chan []byte
	resetC chan struct{}
	done   chan struct{}
	once   sync.Once
	reason atomic.Value // string: why the socket closed

	// Owned by the loop goroutine.
	channels     map[string]*channel
	identities   map[string]bool // also read by the hub under its lock
	unclaimed    map[string]bool // nodes that joined while unclaimed; guarded by hub.mu (see hub.reconnectNode)
	lastSeen     time.Time
	tokens       float64
	refilled     time.Time
	presenceRate *rate.Limiter // track and untrack
	who          atomic.Value  // string: the identities joined, for logs
	closing      atomic.Value  // closeAfter: written once the queue before it is
}

// closeAfter is a close the writer carries out when it reaches the marker
// queued with it (a nil frame), so what was queued before still arrives.
type closeAfter struct {
	code   websocket.StatusCode
	reason string
}

// closeWhenSent closes the socket once every frame queued so far is
// written.
func (s *socket) closeWhenSent(code websocket.StatusCode, reason string) {
	if s.closing.CompareAndSwap(nil, closeAfter{code, reason}) {
		s.enqueue(nil)
	}
}

// serveWebSocket upgrades GET /realtime/v1/websocket?apikey=..&vsn=.. and
// runs the socket until it closes.
func (g *Gateway) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("apikey")
	if key == "" {
		key = r.Header.Get("apikey")
	}
	if err := g.svc.CheckAPIKey(key); err != nil {
		g.failure(w, err)
		return
	}
	c, err := newCodec(q.Get("vsn"))
	if err != nil {
		g.restError(w, badRequest("PGRST100", "%v", err))
		return
	}
	// The server's read and write timeouts bound requests; net/http
	// clears the connection's deadlines when the upgrade hijacks it, and
	// the socket is bounded by its heartbeat timeout and per-frame write
	// timeout instead (the attack suite holds a socket past them).
	// Tokens, not cookies, authenticate: any origin may connect.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"*"}})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(g.limits.MaxFrameBytes)
	now := g.clock.Now()
	s := &socket{
		g: g, conn: conn, codec: c, apikey: key,
		out: newSendQueue(g.limits.SendQueueBytes, g.limits.SendQueueDelay), in: make(chan []byte),
		resetC: make(chan struct{}, 1), done: make(chan struct{}),
		channels: make(map[string]*channel), identities: make(map[string]bool), unclaimed: make(map[string]bool),
		lastSeen: now, tokens: float64(g.limits.MaxMessagesPerSecond), refilled: now,
		presenceRate: rate.NewLimiter(rate.Every(g.limits.PresenceChanges.Per/time.Duration(g.limits.PresenceChanges.N)), g.limits.PresenceChanges.N),
	}
	g.hub.addSocket(s)
	s.run(r.Context())
}

// enqueue queues a frame without blocking; a queue over its bytes or its
// delay means the client reads too slowly, and it is disconnected.
func (s *socket) enqueue(frame []byte) {
	select {
	case <-s.done:
		return
	default:
	}
	if err := s.out.push(frame, s.g.clock.Now()); err != nil {
		s.fail(statusPolicy, err.Error())
	}
}

// fail closes the socket once, with a close code and reason. A close the
// server decides (a reason given) is logged with who held the socket.
func (s *socket) fail(code websocket.StatusCode, reason string) {
	s.once.Do(func() {
		if len(reason) > maxCloseReasonBytes {
			reason = reason[:maxCloseReasonBytes]
		}
		if reason != "" && reason != "server shutting down" {
			frames, bytes := s.out.waiting()
			who, _ := s.who.Load().(string)
			level := slog.LevelWarn
			if code == statusRestart {
				level = slog.LevelInfo
			}
			s.g.log.Log(context.Background(), level, "realtime socket dropped", "reason", reason, "code", int(code),
				"callers", who, "frames_waiting", frames, "bytes_waiting", bytes)
		}
		s.reason.Store(reason)
		close(s.done)
		go func() { _ = s.conn.Close(code, reason) }()
	})
}

func (s *socket) readLoop(ctx context.Context) {
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			// The peer closed, the connection broke, or the frame was over
			// the read limit (the library has then sent 1009 itself).
			s.fail(websocket.StatusNormalClosure, "")
			return
		}
		if typ != websocket.MessageText {
			s.fail(statusUnsupported, "binary frames are not supported")
			return
		}
		select {
		case s.in <- data:
		case <-s.done:
			return
		}
	}
}

func (s *socket) writeLoop() {
	for {
		frame, ok := s.out.pop()
		if !ok {
			select {
			case <-s.done:
				return
			case <-s.out.wake:
				continue
			}
		}
		if frame == nil {
			c, _ := s.closing.Load().(closeAfter)
			s.fail(c.code, c.reason)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.g.limits.WriteTimeout)
		err := s.conn.Write(ctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			select {
			case <-s.done: // closed meanwhile: nothing more to say
			default:
				s.fail(statusGoingAway, fmt.Sprintf("write failed: %v", err))
			}
			return
		}
	}
}

// run is the socket's loop; it returns when the socket is closed.
func (s *socket) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.readLoop(ctx) })
	wg.Go(s.writeLoop)
	timeout := s.g.limits.HeartbeatTimeout
	watchdog := time.NewTicker(max(timeout/4, 10*time.Millisecond))
	defer watchdog.Stop()
	expiry := time.NewTimer(time.Hour)
	expiry.Stop()
	defer expiry.Stop()
	for {
		select {
		case <-s.done:
			s.cleanup()
			wg.Wait()
			return
		case data := <-s.in:
			s.lastSeen = s.g.clock.Now()
			if !s.allow() {
				s.fail(statusPolicy, fmt.Sprintf("rate limit: more than %d messages per second", s.g.limits.MaxMessagesPerSecond))
				continue
			}
			s.handle(ctx, data)
			s.armExpiry(expiry)
		case <-watchdog.C:
			if s.g.clock.Now().Sub(s.lastSeen) > timeout {
				s.fail(statusGoingAway, fmt.Sprintf("heartbeat timeout: nothing received for %v", timeout))
			}
		case <-expiry.C:
			s.expire()
			s.armExpiry(expiry)
		case <-s.resetC:
			for _, ch := range s.channels {
				if len(ch.bindings) > 0 {
					ch.push(evError, json.RawMessage(`{"reason":"changes may have been lost; rejoin"}`))
					s.drop(ch)
				}
			}
		}
	}
}

// allow takes one token of the rate limit's bucket.
func (s *socket) allow() bool {
	now := s.g.clock.Now()
	rate := float64(s.g.limits.MaxMessagesPerSecond)
	s.tokens = min(rate, s.tokens+now.Sub(s.refilled).Seconds()*rate)
	s.refilled = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// armExpiry sets the timer to the earliest token expiry of the channels.
func (s *socket) armExpiry(t *time.Timer) {
	var first time.Time
	for _, ch := range s.channels {
		if !ch.expires.IsZero() && (first.IsZero() || ch.expires.Before(first)) {
			first = ch.expires
		}
	}
	t.Stop()
	if !first.IsZero() {
		t.Reset(max(first.Sub(s.g.clock.Now()), 0))
	}
}

// expire closes the channels whose token has expired.
func (s *socket) expire() {
	now := s.g.clock.Now()
	for _, ch := range s.channels {
		if !ch.expires.IsZero() && !now.Before(ch.expires) {
			s.closeChannel(ch, "Token has expired")
		}
	}
}

// closeChannel tells the client why a channel ends (system error, then
// phx_close) and drops it.
func (s *socket) closeChannel(ch *channel, why string) {
	sys, _ := json.Marshal(map[string]string{"extension": "system", "status": "error", "message": why, "channel": ch.name()})
	ch.push(evSystem, sys)
	ch.push(evClose, json.RawMessage(`{}`))
	s.drop(ch)
}

// drop unregisters a channel and releases its presence.
func (s *socket) drop(ch *channel) {
	delete(s.channels, ch.topic)
	if s.g.hub.removeChannel(ch) && ch.topic == presenceTopic && ch.caller.Role == sentinel.RoleNode {
		s.g.svc.PresenceUntracked(ch.caller.NodeID)
	}
}

func (s *socket) cleanup() {
	for _, ch := range s.channels {
		s.drop(ch)
	}
	s.g.hub.removeSocket(s)
}

// reply answers a client push.
func (s *socket) reply(m message, payload json.RawMessage) {
	s.enqueue(s.codec.encode(message{JoinRef: m.JoinRef, Ref: m.Ref, Topic: m.Topic, Event: evReply, Payload: payload}))
}

// handle processes one client frame.
func (s *socket) handle(ctx context.Context, data []byte) {
	m, err := s.codec.decode(data)
	if err != nil {
		var fe *frameError
		if errors.As(err, &fe) && fe.msg.Topic != "" {
			s.reply(fe.msg, errorReply(fe.Error()))
			return
		}
		s.fail(statusInvalidFrame, err.Error())
		return
	}
	if m.Topic == topicPhoenix {
		if m.Event == evHeartbeat {
			s.reply(m, replyPayload("ok", struct{}{}))
			return
		}
		s.reply(m, errorReply("unmatched topic"))
		return
	}
	if m.Event == evJoin {
		s.join(ctx, m)
		return
	}
	ch := s.channels[m.Topic]
	if ch == nil {
		s.reply(m, errorReply("unmatched topic"))
		return
	}
	switch m.Event {
	case evLeave:
		s.reply(m, replyPayload("ok", struct{}{}))
		ch.push(evClose, json.RawMessage(`{}`))
		s.drop(ch)
	case evAccessToken:
		s.refresh(ctx, ch, m)
	case evPresence:
		s.presence(ctx, ch, m)
	case evBroadcast:
		s.reply(m, errorReply("broadcast is not supported by this server"))
	default:
		s.reply(m, errorReply(fmt.Sprintf("unknown event %q", m.Event)))
	}
}

// joinPayload is a phx_join's payload.
type joinPayload struct {
	Config struct {
		Presence struct {
			Key     string `json:"key"`
			Enabled *bool  `json:"enabled"`
		} `json:"presence"`
		PostgresChanges []bindingSpec `json:"postgres_changes"`
		Private         bool          `json:"private"`
	} `json:"config"`
	AccessToken *string `json:"access_token"`
}

func (s *socket) join(ctx context.Context, m message) {
	if !strings.HasPrefix(m.Topic, topicPrefix) || len(m.Topic) == len(topicPrefix) {
		s.reply(m, errorReply("topic must be realtime:<name>"))
		return
	}
	if old := s.channels[m.Topic]; old != nil {
		s.drop(old) // a rejoin replaces the channel, as Phoenix does
	}
	if len(s.channels) >= s.g.limits.MaxChannelsPerSocket {
		s.reply(m, errorReply(fmt.Sprintf("too many channels on this socket: at most %d", s.g.limits.MaxChannelsPerSocket)))
		return
	}
	var p joinPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		s.reply(m, errorReply("invalid join payload: "+err.Error()))
		return
	}
	if p.Config.Private {
		s.reply(m, errorReply("private channels are not supported by this server"))
		return
	}
	token := s.apikey
	if p.AccessToken != nil && *p.AccessToken != "" {
		token = *p.AccessToken
	}
	caller, err := s.g.svc.Authenticate(ctx, token)
	if err != nil {
		s.reply(m, errorReply(reason(err)))
		return
	}
	ch := &channel{sock: s, topic: m.Topic, joinRef: m.JoinRef, caller: caller, key: p.Config.Presence.Key, expires: caller.ExpiresAt}
	if caller.Role == sentinel.RoleNode {
		n, err := s.g.store.NodeByID(ctx, caller.NodeID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.reply(m, errorReply("Node not found"))
			return
		case err != nil:
			s.g.log.Error("join: read node", "node", caller.NodeID, "err", err)
			s.reply(m, errorReply("internal error"))
			return
		}
		ch.owner = n.UserID
		if ch.owner == "" {
			s.g.hub.noteUnclaimed(s, caller.NodeID)
		}
	}
	if m.Topic == presenceTopic {
		switch {
		case caller.Role == sentinel.RoleAnon:
			s.reply(m, errorReply("nodes:presence needs a node or user token as access_token"))
			return
		case caller.Role == sentinel.RoleNode && ch.owner == "":
			s.reply(m, errorReply(unclaimedNode))
			return
		case caller.Role == sentinel.RoleNode && ch.key == "":
			ch.key = caller.NodeID
		case caller.Role == sentinel.RoleNode && ch.key != caller.NodeID:
			s.reply(m, errorReply("a node may only use its own node id as presence key"))
			return
		}
	}
	if ch.key == "" {
		ch.key = randomKey()
	}
	bs, err := s.g.hub.bindings(ctx, ch, p.Config.PostgresChanges)
	if err != nil {
		s.reply(m, errorReply(reason(err)))
		return
	}
	ch.bindings = bs
	if err := s.g.hub.addChannel(ch, m.JoinRef, m.Ref); err != nil {
		s.reply(m, errorReply(fmt.Sprintf("%v: at most %d", err, s.g.limits.MaxSocketsPerToken)))
		return
	}
	s.channels[m.Topic] = ch
}

// reason turns an error into a reason for the client without internals.
func reason(err error) string {
	var r *refusal
	var se *sentinel.Error
	switch {
	case errors.As(err, &r):
		return r.reason
	case errors.As(err, &se):
		return se.Message
	}
	return "internal error"
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// refresh handles access_token: the new token must be valid and name the
// same caller; otherwise the channel is closed.
func (s *socket) refresh(ctx context.Context, ch *channel, m message) {
	var p struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.AccessToken == "" {
		s.reply(m, errorReply("access_token payload must be {\"access_token\": \"<token>\"}"))
		return
	}
	c, err := s.g.svc.Authenticate(ctx, p.AccessToken)
	if err != nil {
		s.reply(m, errorReply(reason(err)))
		s.closeChannel(ch, "Invalid token: "+reason(err))
		return
	}
	if c.Role != ch.caller.Role || c.Identity() != ch.caller.Identity() {
		s.reply(m, errorReply("the new token names another caller"))
		s.closeChannel(ch, "Invalid token: the new token names another caller")
		return
	}
	ch.expires = c.ExpiresAt
	s.reply(m, replyPayload("ok", struct{}{}))
}

// unclaimedNode refuses what an unclaimed node may not do on Realtime.
const unclaimedNode = "an unclaimed node may only watch its own nodes row (filter id=eq.<its node id>) until it is claimed"

// presence handles track and untrack: at most MaxPresenceBytes of meta,
// at most PresenceChanges per socket, and never from anon, from a node
// anywhere but nodes:presence under its own id, or from an unclaimed node.
func (s *socket) presence(ctx context.Context, ch *channel, m message) {
	var p struct {
		Type    string          `json:"type"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		s.reply(m, errorReply("invalid presence payload: "+err.Error()))
		return
	}
	if p.Event != "track" && p.Event != "untrack" {
		s.reply(m, errorReply(fmt.Sprintf("presence event must be track or untrack, not %q", p.Event)))
		return
	}
	isNode := ch.topic == presenceTopic
	switch {
	case ch.caller.Role == sentinel.RoleAnon:
		s.reply(m, errorReply("tracking presence needs a node or user token"))
		return
	case ch.caller.Role == sentinel.RoleNode && ch.owner == "":
		s.reply(m, errorReply(unclaimedNode))
		return
	case ch.caller.Role == sentinel.RoleNode && !isNode:
		s.reply(m, errorReply("a node tracks presence only on nodes:presence"))
		return
	}
	now := s.g.clock.Now()
	if res := s.presenceRate.ReserveN(now, 1); res.DelayFrom(now) > 0 {
		wait := res.DelayFrom(now)
		res.CancelAt(now)
		lim := s.g.limits.PresenceChanges
		s.reply(m, errorReply(fmt.Sprintf("presence changes are limited to %d per %v on a socket; try again in %v", lim.N, lim.Per, wait.Round(time.Millisecond))))
		return
	}
	switch p.Event {
	case "track":
		if len(p.Payload) > s.g.limits.MaxPresenceBytes {
			s.reply(m, errorReply(fmt.Sprintf("presence meta is larger than %d bytes", s.g.limits.MaxPresenceBytes)))
			return
		}
		var meta map[string]json.RawMessage
		if err := json.Unmarshal(p.Payload, &meta); err != nil || meta == nil {
			s.reply(m, errorReply("track payload must be a JSON object"))
			return
		}
		switch {
		case isNode && (ch.caller.Role != sentinel.RoleNode || ch.key != ch.caller.NodeID):
			s.reply(m, errorReply("only a node may track presence on nodes:presence, under its own id"))
			return
		case isNode && meta["node_id"] != nil && string(meta["node_id"]) != `"`+ch.caller.NodeID+`"`:
			s.reply(m, errorReply("node_id must be your own node id"))
			return
		}
		ref, _ := json.Marshal(s.g.hub.newPresenceRef())
		meta["phx_ref"] = ref
		raw, _ := json.Marshal(meta)
		if s.g.hub.track(ch, raw) && isNode {
			if err := s.g.svc.PresenceTracked(ctx, ch.caller.NodeID); err != nil {
				s.g.log.Error("record presence", "node", ch.caller.NodeID, "err", err)
			}
		}
		s.reply(m, replyPayload("ok", struct{}{}))
	case "untrack":
		if s.g.hub.untrack(ch) && isNode {
			s.g.svc.PresenceUntracked(ch.caller.NodeID)
		}
		s.reply(m, replyPayload("ok", struct{}{}))
	}
}
