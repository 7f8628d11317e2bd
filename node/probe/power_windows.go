package probe

import (
	"context"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"wowlab/node/policy"
)

// power calls GetSystemPowerStatus (kernel32).
type power struct{ status *windows.LazyProc }

func newPower() policy.PowerSource {
	return power{windows.NewLazySystemDLL("kernel32.dll").NewProc("GetSystemPowerStatus")}
}

// systemPowerStatus is SYSTEM_POWER_STATUS.
type systemPowerStatus struct {
	acLineStatus        byte
	batteryFlag         byte
	batteryLifePercent  byte
	systemStatusFlag    byte
	batteryLifeTime     uint32
	batteryFullLifeTime uint32
}

// Power reads the power status.
func (p power) Power(context.Context) (policy.Power, error) {
	if err := p.status.Find(); err != nil {
		return policy.Power{}, fmt.Errorf("%w: %v", policy.ErrUnavailable, err)
	}
	var s systemPowerStatus
	if ok, _, err := p.status.Call(uintptr(unsafe.Pointer(&s))); ok == 0 {
		return policy.Power{}, fmt.Errorf("GetSystemPowerStatus: %w", err)
	}
	return windowsPower(s.acLineStatus, s.batteryFlag, s.batteryLifePercent), nil
}
