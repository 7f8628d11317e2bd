package priority

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Lower sets the process's priority to l unless it is already as low.
//
// On Linux the nice value belongs to each thread, and a new thread takes
// the value of the thread that creates it. Lower therefore sets every
// thread of the process, and goes over the threads again until a pass
// finds none it had not set: a thread started meanwhile by one not yet set
// is caught by the next pass.
func Lower(l Level) error {
	if l == Normal {
		return nil
	}
	want := l.niceness()
	done := map[int]bool{}
	for {
		tids, err := threads()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh++
			if err := lowerThread(tid, want); err != nil {
				return err
			}
			done[tid] = true
		}
		if fresh == 0 {
			return nil
		}
	}
}

// lowerThread sets thread tid to nice value want if it is below it.
func lowerThread(tid, want int) error {
	// The system call returns 20 - nice, which keeps its results positive.
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if errors.Is(err, unix.ESRCH) {
		return nil // the thread has ended
	}
	if err != nil {
		return fmt.Errorf("read priority of thread %d: %w", tid, err)
	}
	if 20-raw >= want {
		return nil
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, want); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("lower priority of thread %d: %w", tid, err)
	}
	return nil
}

// threads lists the thread IDs of the process.
func threads() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
