package probe

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"wowlab/node/policy"
)

// input reads logind's idle hint over the D-Bus system bus: the state of
// the whole seat, aggregated by logind from every session (a desktop sets
// its session idle after its own delay, such as GNOME's screen-blank
// delay; a text console from its terminal's last use).
type input struct {
	log  *slog.Logger
	mu   sync.Mutex
	conn *dbus.Conn
	said bool // the missing bus was logged
}

func newInput(log *slog.Logger) policy.InputIdleness { return &input{log: log} }

// InputIdle returns the time since the seat went idle, 0 while it is in
// use, or NoSession where there is no system bus or no logind (servers,
// containers).
func (in *input) InputIdle(ctx context.Context) (time.Duration, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.conn == nil {
		conn, err := dbus.ConnectSystemBus(dbus.WithContext(ctx))
		if err != nil {
			if !in.said {
				in.log.Debug("no D-Bus system bus: the computer counts as idle", "err", err)
				in.said = true
			}
			return policy.NoSession, nil
		}
		in.conn = conn
	}
	obj := in.conn.Object("org.freedesktop.login1", "/org/freedesktop/login1")
	var hint, since dbus.Variant
	err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, "org.freedesktop.login1.Manager", "IdleHint").Store(&hint)
	if err == nil {
		err = obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, "org.freedesktop.login1.Manager", "IdleSinceHint").Store(&since)
	}
	if derr, ok := err.(dbus.Error); ok && derr.Name == "org.freedesktop.DBus.Error.ServiceUnknown" {
		return policy.NoSession, nil // a bus without logind
	}
	if err != nil {
		in.conn.Close()
		in.conn = nil
		return 0, fmt.Errorf("ask logind for the idle hint: %w", err)
	}
	h, ok1 := hint.Value().(bool)
	s, ok2 := since.Value().(uint64)
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("logind idle hint has types %s and %s", hint.Signature(), since.Signature())
	}
	return logindIdle(h, s, time.Now()), nil
}
