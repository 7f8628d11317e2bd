package priority

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// Lower puts the process in the priority class of l unless its class is
// already as low.
func Lower(l Level) error {
	var class uint32
	switch l {
	case Normal:
		return nil
	case Low:
		class = windows.BELOW_NORMAL_PRIORITY_CLASS
	default:
		class = windows.IDLE_PRIORITY_CLASS
	}
	self := windows.CurrentProcess()
	if cur, err := windows.GetPriorityClass(self); err == nil && (cur == windows.IDLE_PRIORITY_CLASS || cur == class) {
		return nil
	}
	if err := windows.SetPriorityClass(self, class); err != nil {
		return fmt.Errorf("lower process priority: %w", err)
	}
	return nil
}
