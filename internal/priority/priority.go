// Package priority lowers the CPU scheduling priority of the running
// process, so that a node simulating on a volunteer's computer gives way to
// everything else the computer runs, the way volunteer-computing clients
// do. Raising a priority is never attempted.
package priority

import (
	"errors"
	"fmt"
)

// Level is a scheduling priority for the process.
type Level int

// Levels, from the least to the most polite.
const (
	// Normal leaves the priority as the process was started with.
	Normal Level = iota
	// Low is nice 10 on Unix, the below-normal class on Windows.
	Low
	// Idle is nice 19 on Unix, the idle class on Windows: the process runs
	// when nothing else wants the CPU.
	Idle
)

var names = [...]string{Normal: "normal", Low: "low", Idle: "idle"}

func (l Level) String() string {
	if l < Normal || l > Idle {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return names[l]
}

// Parse reads a level by name: idle, low or normal.
func Parse(s string) (Level, error) {
	for l, name := range names {
		if s == name {
			return Level(l), nil
		}
	}
	return Normal, fmt.Errorf("priority must be idle, low or normal, got %q", s)
}

// niceness is the Unix nice value of a level.
func (l Level) niceness() int {
	switch l {
	case Low:
		return 10
	case Idle:
		return 19
	}
	return 0
}

// ErrUnsupported is returned by Lower on systems without a way to lower
// the priority.
var ErrUnsupported = errors.New("lowering the process priority is not supported on this system")
