// Package probe reads what the volunteer policies judge from the machine:
// how long ago the keyboard or mouse was used, whether the computer runs on
// battery, the CPU temperature and the CPU used by other programs. Each
// reading has one implementation per operating system, all without cgo;
// where an OS cannot tell, the error wraps policy.ErrUnavailable.
package probe

import (
	"log/slog"

	"wowlab/node/policy"
)

// New returns the probes of this machine. The CPU load probe measures from
// the moment it is created.
func New(log *slog.Logger) policy.Probes {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return policy.Probes{
		Input:       newInput(log),
		Power:       newPower(),
		Thermometer: Thermometer{},
		Load:        NewLoad(),
	}
}
