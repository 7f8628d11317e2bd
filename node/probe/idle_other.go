//go:build !linux && !darwin && !windows

package probe

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"wowlab/node/policy"
)

type input struct{}

func newInput(*slog.Logger) policy.InputIdleness { return input{} }

// InputIdle cannot tell on this platform.
func (input) InputIdle(context.Context) (time.Duration, error) {
	return 0, fmt.Errorf("%w: no input idleness on %s", policy.ErrUnavailable, runtime.GOOS)
}
