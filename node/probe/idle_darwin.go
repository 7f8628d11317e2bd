package probe

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"time"

	"wowlab/node/policy"
)

// input reads the HID system's idle time from the I/O Registry: the
// HIDIdleTime property of IOHIDSystem, in nanoseconds since the last
// keyboard, mouse or trackpad event.
type input struct{}

func newInput(*slog.Logger) policy.InputIdleness { return input{} }

// InputIdle runs ioreg and reads HIDIdleTime.
func (input) InputIdle(ctx context.Context) (time.Duration, error) {
	out, err := exec.CommandContext(ctx, "/usr/sbin/ioreg", "-c", "IOHIDSystem", "-d", "4").Output()
	if err != nil {
		return 0, fmt.Errorf("run ioreg: %w", err)
	}
	return parseHIDIdleTime(out)
}
