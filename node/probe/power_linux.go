package probe

import (
	"context"
	"io/fs"
	"os"

	"wowlab/node/policy"
)

// power reads the kernel's power_supply class.
type power struct{ fsys fs.FS }

func newPower() policy.PowerSource { return power{os.DirFS("/sys/class/power_supply")} }

// Power reads the supplies.
func (p power) Power(context.Context) (policy.Power, error) { return readPowerSupply(p.fsys) }
