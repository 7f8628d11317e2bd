package probe

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"wowlab/node/policy"
)

// input asks GetLastInputInfo (user32) for the tick of the session's last
// input event. In a service (session 0) nobody types, so the computer
// counts as idle there.
type input struct {
	lastInput *windows.LazyProc
	tickCount *windows.LazyProc
}

func newInput(*slog.Logger) policy.InputIdleness {
	return &input{
		lastInput: windows.NewLazySystemDLL("user32.dll").NewProc("GetLastInputInfo"),
		tickCount: windows.NewLazySystemDLL("kernel32.dll").NewProc("GetTickCount"),
	}
}

// lastInputInfo is LASTINPUTINFO: the struct size, then the tick count
// (milliseconds since boot, 32 bits) of the last input.
type lastInputInfo struct {
	size uint32
	time uint32
}

// InputIdle returns the time since the last input.
func (in *input) InputIdle(context.Context) (time.Duration, error) {
	if err := in.lastInput.Find(); err != nil {
		return 0, fmt.Errorf("%w: %v", policy.ErrUnavailable, err)
	}
	info := lastInputInfo{size: uint32(unsafe.Sizeof(lastInputInfo{}))}
	if ok, _, err := in.lastInput.Call(uintptr(unsafe.Pointer(&info))); ok == 0 {
		return 0, fmt.Errorf("GetLastInputInfo: %w", err)
	}
	now, _, _ := in.tickCount.Call()
	// Both are 32-bit tick counts, so the difference is right across their
	// wrap every 49.7 days.
	return time.Duration(uint32(now)-info.time) * time.Millisecond, nil
}
