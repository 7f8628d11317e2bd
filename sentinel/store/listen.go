package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification channels of the schema.
const (
	channelPendingChunk = "pending_chunk"
	channelChange       = "wowlab_change"
)

// ListenApplicationName is the application_name of the listening
// connection, so operators (and tests) can find it in pg_stat_activity.
const ListenApplicationName = "wowlab-sentinel-listen"

// Listen holds a dedicated connection listening on the store's channels and
// publishes what arrives to the subscriptions until ctx ends. When the
// connection drops it reconnects with backoff (100 ms doubling to 5 s),
// listens again and publishes KindReset, because notifications sent in
// between are lost. A KindReset is also published after the first connect.
// A lost connection also resets the query pool: the server most likely
// dropped those connections too.
func (p *Postgres) Listen(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := p.listenOnce(ctx, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return nil
		}
		p.log.Warn("notification listener lost its connection; reconnecting", "err", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// listenOnce connects, listens and publishes until the connection fails.
func (p *Postgres) listenOnce(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, p.connConf.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{channelPendingChunk, channelChange} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	connected()
	p.feed.Publish(Notification{Kind: KindReset})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() == nil {
				// The server dropped this connection, most likely with
				// every other one (a restart, a network cut): close the
				// pool's too, idle ones now and those in use when they
				// come back, so no request after the server's return
				// fails on a connection of the old one.
				p.pool.Reset()
			}
			return err
		}
		switch n.Channel {
		case channelPendingChunk:
			p.feed.Publish(Notification{Kind: KindPendingChunk, ChunkID: n.Payload})
		case channelChange:
			c, err := parseChange(n.Payload)
			if err != nil {
				p.log.Error("ignoring malformed change notification", "err", err, "payload", n.Payload)
				continue
			}
			p.feed.Publish(Notification{Kind: KindChange, Change: c})
		}
	}
}

// parseChange decodes a wowlab_change payload.
func parseChange(payload string) (Change, error) {
	var raw struct {
		Table string         `json:"table"`
		Op    string         `json:"op"`
		ID    string         `json:"id"`
		Old   map[string]any `json:"old"`
		At    time.Time      `json:"at"`
	}
	if err := json.Unmarshal([]byte(payload), &raw); err != nil {
		return Change{}, fmt.Errorf("decode change: %w", err)
	}
	if raw.Table == "" || raw.Op == "" || raw.ID == "" {
		return Change{}, fmt.Errorf("change lacks table, op or id")
	}
	return Change(raw), nil
}
