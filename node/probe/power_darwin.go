package probe

import (
	"context"
	"fmt"
	"os/exec"

	"wowlab/node/policy"
)

// power runs pmset.
type power struct{}

func newPower() policy.PowerSource { return power{} }

// Power reads `pmset -g batt`.
func (power) Power(ctx context.Context) (policy.Power, error) {
	out, err := exec.CommandContext(ctx, "/usr/bin/pmset", "-g", "batt").Output()
	if err != nil {
		return policy.Power{}, fmt.Errorf("run pmset: %w", err)
	}
	return parsePmsetBatt(out)
}
