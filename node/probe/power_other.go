//go:build !linux && !darwin && !windows

package probe

import (
	"context"
	"fmt"
	"runtime"

	"wowlab/node/policy"
)

type power struct{}

func newPower() policy.PowerSource { return power{} }

// Power cannot tell on this platform.
func (power) Power(context.Context) (policy.Power, error) {
	return policy.Power{}, fmt.Errorf("%w: no power source on %s", policy.ErrUnavailable, runtime.GOOS)
}
