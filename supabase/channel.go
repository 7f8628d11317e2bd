package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ChannelConfig configures a channel passed to Realtime.Subscribe. Every
// callback runs on the Realtime's callback goroutine, never on the socket.
type ChannelConfig struct {
	// Changes are the postgres_changes bindings, sent in this order.
	Changes []ChangeBinding
	// Presence is sent as config.presence; set Enabled to use presence.
	Presence PresenceConfig
	// Broadcast is sent as config.broadcast.
	Broadcast BroadcastConfig
	// Private asks for a private (authorized) channel.
	Private bool

	// OnPresenceState receives every presence_state.
	OnPresenceState func(PresenceState)
	// OnPresenceDiff receives every presence_diff.
	OnPresenceDiff func(PresenceDiff)
	// OnSystem receives every system message.
	OnSystem func(SystemMessage)
	// OnMessage receives every other event on the channel (broadcast, ...).
	OnMessage func(Message)
}

// ChangeBinding is one postgres_changes subscription of a channel.
type ChangeBinding struct {
	Event  string // "*" (default), "INSERT", "UPDATE" or "DELETE"
	Schema string // default "public"
	Table  string
	Filter string // PostgREST-style, e.g. "node_id=eq.<id>"; empty for none
	// OnChange receives each change routed to this binding (required).
	OnChange func(Change)
}

// Channel is one realtime:<name> topic of a Realtime. Its methods are safe
// for concurrent use.
type Channel struct {
	r     *Realtime
	topic string
	name  string
	cfg   ChannelConfig

	// Guarded by r.mu.
	sess      *session // the socket it is joined on, nil when not joined
	joinRef   string
	joining   *session // the socket a join loop runs on
	serverIDs []int64  // per binding, from the join reply
	presence  json.RawMessage
	left      bool
}

// Topic returns "realtime:<name>".
func (c *Channel) Topic() string { return c.topic }

// Joined reports whether the channel is joined on the current socket.
func (c *Channel) Joined() bool {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	return c.sess != nil && c.sess == c.r.sess
}

// joinPayload builds the phx_join payload. Called with r.mu held.
func (c *Channel) joinPayload(token string) (json.RawMessage, error) {
	jp := JoinPayload{
		Config: JoinConfig{
			Broadcast:       c.cfg.Broadcast,
			Presence:        c.cfg.Presence,
			PostgresChanges: make([]PostgresChange, len(c.cfg.Changes)),
			Private:         c.cfg.Private,
		},
		AccessToken: token,
	}
	for i, b := range c.cfg.Changes {
		jp.Config.PostgresChanges[i] = PostgresChange{Event: b.Event, Schema: b.Schema, Table: b.Table, Filter: b.Filter}
	}
	return jsonMarshal(jp)
}

// matchBindings checks the join reply's bindings against ours, in order,
// and returns the server id of each.
func (c *Channel) matchBindings(resp json.RawMessage) ([]int64, error) {
	var jr JoinResponse
	if len(resp) > 0 {
		if err := json.Unmarshal(resp, &jr); err != nil {
			return nil, fmt.Errorf("join reply: %w", err)
		}
	}
	if len(jr.PostgresChanges) != len(c.cfg.Changes) {
		return nil, fmt.Errorf("join reply lists %d postgres_changes bindings, want %d", len(jr.PostgresChanges), len(c.cfg.Changes))
	}
	ids := make([]int64, len(c.cfg.Changes))
	for i, b := range c.cfg.Changes {
		sb := jr.PostgresChanges[i]
		if sb.Event != b.Event || sb.Schema != b.Schema || sb.Table != b.Table || sb.Filter != b.Filter {
			return nil, fmt.Errorf("join reply binding %d is %s %s.%s %q, want %s %s.%s %q",
				i, sb.Event, sb.Schema, sb.Table, sb.Filter, b.Event, b.Schema, b.Table, b.Filter)
		}
		ids[i] = sb.ID
	}
	return ids, nil
}

// Track sets this client's presence on the channel to payload (marshalled
// to a JSON object). If the channel is joined it is sent now and Track
// waits for the server's reply; otherwise it is sent after the next join.
// It is sent again after every rejoin until Untrack.
func (c *Channel) Track(ctx context.Context, payload any) error {
	b, err := jsonMarshal(payload)
	if err != nil {
		return fmt.Errorf("supabase: realtime: track on %s: %w", c.topic, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("supabase: realtime: track on %s: payload must be a JSON object", c.topic)
	}
	c.r.mu.Lock()
	if c.left {
		c.r.mu.Unlock()
		return ErrClosed
	}
	c.presence = b
	s, joinRef := c.sess, c.joinRef
	c.r.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.pushPresence(ctx, c.topic, joinRef, "track", b)
}

// Untrack removes this client's presence from the channel (sent now if
// joined) and stops tracking on later joins.
func (c *Channel) Untrack(ctx context.Context) error {
	c.r.mu.Lock()
	if c.left {
		c.r.mu.Unlock()
		return ErrClosed
	}
	c.presence = nil
	s, joinRef := c.sess, c.joinRef
	c.r.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.pushPresence(ctx, c.topic, joinRef, "untrack", nil)
}

// Leave sends phx_leave (when joined), waits for the reply and removes the
// channel from its Realtime: it is not joined again, its callbacks get
// nothing more, and the name may be subscribed anew. The channel is removed
// even when the reply fails or ctx ends.
func (c *Channel) Leave(ctx context.Context) error {
	c.r.mu.Lock()
	if c.left {
		c.r.mu.Unlock()
		return nil
	}
	c.left = true
	if c.r.channels[c.topic] == c {
		delete(c.r.channels, c.topic)
	}
	s, joinRef := c.sess, c.joinRef
	c.sess, c.joinRef, c.serverIDs = nil, "", nil
	c.r.mu.Unlock()
	if s == nil {
		return nil
	}
	reply, err := s.request(ctx, Message{JoinRef: joinRef, Ref: s.nextRef(), Topic: c.topic, Event: "phx_leave", Payload: json.RawMessage("{}")}, nil)
	if err != nil {
		return fmt.Errorf("supabase: realtime: leave %s: %w", c.topic, err)
	}
	if reply.Status != "ok" {
		return fmt.Errorf("supabase: realtime: leave %s: %w", c.topic, replyError(c.topic, reply))
	}
	return nil
}

// replyError turns an error reply into a *ChannelError.
func replyError(topic string, reply Reply) error {
	var er ErrorResponse
	_ = json.Unmarshal(reply.Response, &er) // a reply without a reason still is an error
	reason := er.Reason
	if reason == "" {
		reason = "status " + reply.Status
	}
	return &ChannelError{Topic: topic, Event: "phx_reply", Reason: reason}
}

// jsonMarshal marshals v; nil becomes {}.
func jsonMarshal(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return b, nil
}

var errLeft = errors.New("channel left")
