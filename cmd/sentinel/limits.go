package main

// The flags of `sentinel serve` that bound what clients may cost: HTTP
// timeouts and sizes, the connection cap, rate limits on claim codes and
// registrations, and the Realtime limits. Each is also an environment
// variable.

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"wowlab/internal/cli"
	"wowlab/sentinel"
	"wowlab/sentinel/gateway"
	"wowlab/sentinel/server"
)

// limits are the values of the limit flags.
type limits struct {
	http     server.Limits
	realtime gateway.Limits

	maxBodyMemory            int64
	clientIPHeader           string
	claimChecksPerUser       sentinel.Rate
	claimChecksPerAddress    sentinel.Rate
	registrationsPerAddress  sentinel.Rate
	maxHeaderBytes           int64
	realtimeMaxFrameBytes    int64
	realtimeSendQueueBytes   int64
	realtimeMaxPresenceBytes int64
}

// rateValue is a sentinel.Rate flag, written N/DURATION.
type rateValue struct{ r *sentinel.Rate }

func (v rateValue) String() string { return v.r.String() }
func (v rateValue) Type() string   { return "N/duration" }
func (v rateValue) Set(s string) error {
	r, err := sentinel.ParseRate(s)
	if err != nil {
		return err
	}
	*v.r = r
	return nil
}

// sizeValue is a byte count flag: 65536, 64KiB, 16MiB, 1MB.
type sizeValue struct{ n *int64 }

func (v sizeValue) String() string { return humanize.IBytes(uint64(*v.n)) }
func (v sizeValue) Type() string   { return "bytes" }
func (v sizeValue) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > 1<<40 {
		return fmt.Errorf("%q is not a size in bytes (for example 65536, 64KiB, 16MiB)", s)
	}
	*v.n = int64(n)
	return nil
}

// addLimitFlags adds the limit flags to fs, with the defaults as values.
func addLimitFlags(fs *pflag.FlagSet, l *limits) {
	l.http = server.DefaultLimits()
	l.http.MaxConnections = 0 // fitted to the open-file limit unless set
	l.realtime = gateway.DefaultLimits()
	l.maxBodyMemory = sentinel.DefaultMaxBodyMemory
	l.claimChecksPerUser = sentinel.DefaultClaimChecksPerUser
	l.claimChecksPerAddress = sentinel.DefaultClaimChecksPerAddress
	l.registrationsPerAddress = sentinel.DefaultRegistrationsPerAddress
	l.maxHeaderBytes = int64(l.http.MaxHeaderBytes)
	l.realtimeMaxFrameBytes = l.realtime.MaxFrameBytes
	l.realtimeSendQueueBytes = int64(l.realtime.SendQueueBytes)
	l.realtimeMaxPresenceBytes = int64(l.realtime.MaxPresenceBytes)

	dur := func(p *time.Duration, name, env, usage string) {
		fs.DurationVar(p, name, *p, usage)
		cli.BindEnv(fs, name, env)
	}
	count := func(p *int, name, env, usage string) {
		fs.IntVar(p, name, *p, usage)
		cli.BindEnv(fs, name, env)
	}
	size := func(p *int64, name, env, usage string) {
		fs.Var(sizeValue{p}, name, usage)
		cli.BindEnv(fs, name, env)
	}
	rate := func(p *sentinel.Rate, name, env, usage string) {
		fs.Var(rateValue{p}, name, usage)
		cli.BindEnv(fs, name, env)
	}
	dur(&l.http.ReadHeaderTimeout, "read-header-timeout", "SENTINEL_READ_HEADER_TIMEOUT", "limit on reading a request's headers")
	dur(&l.http.ReadTimeout, "read-timeout", "SENTINEL_READ_TIMEOUT", "limit on reading a whole request, body included")
	dur(&l.http.WriteTimeout, "write-timeout", "SENTINEL_WRITE_TIMEOUT", "limit on writing an answer")
	dur(&l.http.IdleTimeout, "idle-timeout", "SENTINEL_IDLE_TIMEOUT", "a kept-alive connection idle this long is closed")
	size(&l.maxHeaderBytes, "max-header-bytes", "SENTINEL_MAX_HEADER_BYTES", "largest request headers")
	count(&l.http.MaxConnections, "max-connections", "SENTINEL_MAX_CONNECTIONS",
		fmt.Sprintf("connections open at once, Realtime sockets included; over it 503 with Retry-After (0: %d, lowered to fit the open-file limit)", server.DefaultMaxConnections))
	count(&l.http.StatusReserve, "status-reserve", "SENTINEL_STATUS_RESERVE", "connections beyond --max-connections kept for GET /status")
	size(&l.maxBodyMemory, "max-body-memory", "SENTINEL_MAX_BODY_MEMORY", "request body bytes held at once across all requests; over it 503 with Retry-After")
	fs.StringVar(&l.clientIPHeader, "client-ip-header", "", "header a reverse proxy puts the client's address in (X-Forwarded-For, X-Real-IP), for the per-address limits; only behind such a proxy")
	cli.BindEnv(fs, "client-ip-header", "SENTINEL_CLIENT_IP_HEADER")
	rate(&l.claimChecksPerUser, "claim-checks-per-user", "SENTINEL_CLAIM_CHECKS_PER_USER", "claim codes one user may try (verify_claim_code, claims by code)")
	rate(&l.claimChecksPerAddress, "claim-checks-per-address", "SENTINEL_CLAIM_CHECKS_PER_ADDRESS", "claim codes one address may try")
	rate(&l.registrationsPerAddress, "registrations-per-address", "SENTINEL_REGISTRATIONS_PER_ADDRESS", "new nodes one address may register")
	dur(&l.realtime.HeartbeatTimeout, "realtime-heartbeat-timeout", "SENTINEL_REALTIME_HEARTBEAT_TIMEOUT", "a Realtime socket silent this long is closed")
	size(&l.realtimeMaxFrameBytes, "realtime-max-frame-bytes", "SENTINEL_REALTIME_MAX_FRAME_BYTES", "largest frame a Realtime client may send")
	count(&l.realtime.MaxChannelsPerSocket, "realtime-max-channels", "SENTINEL_REALTIME_MAX_CHANNELS", "topics one Realtime socket may join")
	count(&l.realtime.MaxBindingsPerChannel, "realtime-max-bindings", "SENTINEL_REALTIME_MAX_BINDINGS", "postgres_changes bindings one Realtime join may ask for")
	count(&l.realtime.MaxSocketsPerToken, "realtime-max-sockets-per-token", "SENTINEL_REALTIME_MAX_SOCKETS_PER_TOKEN", "Realtime sockets one node or user may hold on this instance")
	count(&l.realtime.MaxMessagesPerSecond, "realtime-messages-per-second", "SENTINEL_REALTIME_MESSAGES_PER_SECOND", "frames a Realtime socket may send per second; a faster one is closed")
	size(&l.realtimeSendQueueBytes, "realtime-send-queue-bytes", "SENTINEL_REALTIME_SEND_QUEUE_BYTES", "bytes that may wait to be read by one Realtime client")
	dur(&l.realtime.SendQueueDelay, "realtime-send-queue-delay", "SENTINEL_REALTIME_SEND_QUEUE_DELAY", "how long a frame may wait to be read by a Realtime client")
	dur(&l.realtime.WriteTimeout, "realtime-write-timeout", "SENTINEL_REALTIME_WRITE_TIMEOUT", "limit on writing one Realtime frame")
	size(&l.realtimeMaxPresenceBytes, "realtime-max-presence-bytes", "SENTINEL_REALTIME_MAX_PRESENCE_BYTES", "largest presence meta a Realtime client may track")
	rate(&l.realtime.PresenceChanges, "realtime-presence-changes", "SENTINEL_REALTIME_PRESENCE_CHANGES", "presence tracks and untracks one Realtime socket may make")
}

// resolve copies the size flags into the limit structs and checks them.
func (l *limits) resolve() error {
	const maxInt32 = 1<<31 - 1
	for _, f := range []struct {
		name string
		v    int64
	}{{"--max-header-bytes", l.maxHeaderBytes}, {"--realtime-send-queue-bytes", l.realtimeSendQueueBytes}, {"--realtime-max-presence-bytes", l.realtimeMaxPresenceBytes}} {
		if f.v > maxInt32 {
			return cli.Usagef("%s must be at most 2GiB", f.name)
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"--read-header-timeout", l.http.ReadHeaderTimeout}, {"--read-timeout", l.http.ReadTimeout}, {"--write-timeout", l.http.WriteTimeout},
		{"--idle-timeout", l.http.IdleTimeout}, {"--realtime-heartbeat-timeout", l.realtime.HeartbeatTimeout},
		{"--realtime-send-queue-delay", l.realtime.SendQueueDelay}, {"--realtime-write-timeout", l.realtime.WriteTimeout}} {
		if f.v <= 0 {
			return cli.Usagef("%s must be positive", f.name)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"--status-reserve", l.http.StatusReserve}, {"--realtime-max-channels", l.realtime.MaxChannelsPerSocket},
		{"--realtime-max-bindings", l.realtime.MaxBindingsPerChannel}, {"--realtime-max-sockets-per-token", l.realtime.MaxSocketsPerToken}, {"--realtime-messages-per-second", l.realtime.MaxMessagesPerSecond}} {
		if f.v < 1 {
			return cli.Usagef("%s must be at least 1", f.name)
		}
	}
	if l.http.MaxConnections < 0 {
		return cli.Usagef("--max-connections must not be negative")
	}
	l.http.MaxHeaderBytes = int(l.maxHeaderBytes)
	l.realtime.MaxFrameBytes = l.realtimeMaxFrameBytes
	l.realtime.SendQueueBytes = int(l.realtimeSendQueueBytes)
	l.realtime.MaxPresenceBytes = int(l.realtimeMaxPresenceBytes)
	return nil
}
