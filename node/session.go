package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"wowlab/supabase"
)

// realtimeSession is the node's link to REST and Realtime for one node id:
// a node token, the REST client using it, and the realtime subscriptions.
type realtimeSession struct {
	nodeID  string
	rest    *supabase.REST
	queries *Queries
	rt      *supabase.Realtime
}

// startSession fetches a token and starts the realtime subscriptions of
// nodeID until ctx ends. The channel receives an error if the session
// cannot continue (no token, identity refused).
func (c *Core) startSession(ctx context.Context, nodeID string) <-chan error {
	errc := make(chan error, 1)
	go func() {
		if err := c.runSession(ctx, nodeID); err != nil && ctx.Err() == nil {
			errc <- err
		}
	}()
	return errc
}

func (c *Core) runSession(ctx context.Context, nodeID string) error {
	cfg := c.Config()
	c.setConnection(Connecting)
	tok, err := c.api.Token(ctx)
	if err != nil {
		c.setConnection(Disconnected)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return errInvalidIdentity
		}
		return fmt.Errorf("get realtime token: %w", err)
	}
	rest, err := supabase.NewREST(cfg.APIURL, cfg.AnonKey, supabase.RESTOptions{HTTPClient: c.httpc, Token: tok.Token, Clock: c.clock})
	if err != nil {
		return err
	}
	s := &realtimeSession{nodeID: nodeID, rest: rest, queries: NewQueries(rest)}
	subs := &subscriptions{nodeID: nodeID, log: c.log, now: c.clock.Now, onNode: c.onNodeRow, onChunk: c.assign}
	rt, err := supabase.NewRealtime(supabase.RealtimeOptions{
		APIURL: cfg.APIURL, APIKey: cfg.AnonKey, AccessToken: tok.Token,
		Serializer: c.opts.Serializer, Backoff: c.realtimeBackoff(), Clock: c.clock,
		HTTPClient: c.httpc, Logger: c.log,
		OnStatus: func(st supabase.Status) { c.realtimeStatus(ctx, s, st) },
	})
	if err != nil {
		return err
	}
	s.rt = rt
	if err := subs.subscribe(ctx, rt); err != nil {
		return err
	}
	c.mu.Lock()
	c.session = s
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.session == s {
			c.session = nil
		}
		c.mu.Unlock()
		c.setConnection(Disconnected)
	}()
	go c.refreshToken(ctx, s, time.Unix(tok.ExpiresAt, 0))
	_ = rt.Run(ctx)
	return nil
}

func (c *Core) realtimeBackoff() supabase.Backoff {
	b := c.opts.RealtimeBackoff
	if b.Initial == 0 && b.Max == 0 && b.Jitter == 0 {
		b = supabase.Backoff{Initial: time.Second, Max: time.Minute, Jitter: time.Second}
	}
	return b
}

// realtimeStatus follows the realtime link and resyncs after every
// subscription of the chunks channel.
func (c *Core) realtimeStatus(ctx context.Context, s *realtimeSession, st supabase.Status) {
	switch st.Kind {
	case supabase.StatusConnected:
		c.setConnection(Connected)
	case supabase.StatusDisconnected:
		if ctx.Err() == nil {
			c.setConnection(Connecting)
			c.log.Warn("realtime disconnected", "err", st.Err, "retry_in", st.RetryIn)
		}
	case supabase.StatusSubscribed:
		if st.Topic == "realtime:"+chunksTopic(s.nodeID) {
			go c.resync(ctx, s)
		}
	case supabase.StatusChannelError:
		c.log.Warn("realtime channel error", "topic", st.Topic, "err", st.Err, "retry_in", st.RetryIn)
		c.emit(Event{Kind: Error, Err: fmt.Errorf("realtime %s: %w", st.Topic, st.Err)})
	}
}

// resync starts every running chunk of this node that it is not working
// on: changes sent while the node was not subscribed are not replayed.
func (c *Core) resync(ctx context.Context, s *realtimeSession) {
	var chunks []Chunk
	err := supabase.Retry(ctx, c.fetchPolicy(), func(ctx context.Context) error {
		var err error
		chunks, err = s.queries.RunningChunks(ctx, s.nodeID)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("resync failed", "err", err)
			c.emit(Event{Kind: Error, Err: err})
		}
		return
	}
	for _, ch := range chunks {
		ch.NodeID, ch.Status = s.nodeID, "running"
		c.assign(ch)
	}
}

// Token refresh limits. However early the sentinel says a token expires
// (in the past, 0, missing), the node asks for a new one at most every
// minTokenRefresh, and backs off from there up to maxTokenRefresh while
// the answers stay that short.
const (
	minTokenRefresh = 30 * time.Second
	maxTokenRefresh = 10 * time.Minute
)

// refreshToken replaces the session's token before it expires.
func (c *Core) refreshToken(ctx context.Context, s *realtimeSession, expires time.Time) {
	failures, short := 0, 0
	for {
		wait := expires.Sub(c.clock.Now())
		wait -= min(c.iv.TokenRefresh, wait/2)
		switch {
		case failures > 0:
			wait = supabase.Backoff{Initial: c.iv.FetchRetry, Max: time.Minute}.Delay(failures - 1)
		case wait < minTokenRefresh:
			if short == 0 {
				c.log.Warn("the sentinel's token expires too soon; refreshing it with backoff", "expires_at", expires.Unix())
			}
			wait = supabase.Backoff{Initial: minTokenRefresh, Max: maxTokenRefresh}.Delay(short)
			short++
		default:
			short = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(wait):
		}
		tok, err := c.api.Token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			c.log.Warn("token refresh failed", "err", err)
			continue
		}
		failures = 0
		expires = time.Unix(tok.ExpiresAt, 0)
		s.rest.SetToken(tok.Token)
		if err := s.rt.SetAccessToken(ctx, tok.Token); err != nil && ctx.Err() == nil {
			c.log.Warn("sending the new token failed; it is used on the next join", "err", err)
		}
	}
}

func (c *Core) fetchPolicy() supabase.RetryPolicy {
	return supabase.RetryPolicy{
		MaxAttempts: c.iv.FetchAttempts,
		Backoff:     supabase.Backoff{Initial: c.iv.FetchRetry, Max: 30 * time.Second},
		Clock:       c.clock,
	}
}

// queries returns the REST queries of the current session, or nil.
func (c *Core) queries() *Queries {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return nil
	}
	return c.session.queries
}
