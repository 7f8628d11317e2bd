package priority

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The nice values of every thread are checked in a child process: Lower
// cannot be undone by the process it lowers.
const helperEnv = "WOWLAB_PRIORITY_HELPER"

func TestHelperProcess(t *testing.T) {
	name := os.Getenv(helperEnv)
	if name == "" {
		t.Skip("runs as the child of TestLowerSetsEveryThread")
	}
	l, err := Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := Lower(l); err != nil {
		t.Fatal(err)
	}
	// Threads started afterwards take the lowered value from their creator.
	var started, release sync.WaitGroup
	release.Add(1)
	for range 4 {
		started.Add(1)
		go func() {
			runtime.LockOSThread()
			started.Done()
			release.Wait()
		}()
	}
	started.Wait()
	nices, err := threadNices()
	if err != nil {
		t.Fatal(err)
	}
	release.Done()
	fmt.Println(strings.Join(nices, " "))
}

func TestLowerSetsEveryThread(t *testing.T) {
	before, err := threadNices()
	if err != nil {
		t.Fatal(err)
	}
	start, _ := strconv.Atoi(before[0])
	for _, tt := range []struct {
		level Level
		want  int
	}{{Low, max(start, 10)}, {Idle, 19}, {Normal, start}} {
		t.Run(tt.level.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperProcess$")
			cmd.Env = append(os.Environ(), helperEnv+"="+tt.level.String())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s%s", err, out, stderr.Bytes())
			}
			line := strings.SplitN(string(out), "\n", 2)[0]
			nices := strings.Fields(line)
			if len(nices) < 5 {
				t.Fatalf("child reported %d threads (%q), want at least 5", len(nices), line)
			}
			for i, n := range nices {
				if n != strconv.Itoa(tt.want) {
					t.Errorf("thread %d of %d: nice %s, want %d", i, len(nices), n, tt.want)
				}
			}
		})
	}
}

// threadNices returns the nice value of each thread of the process, from
// field 19 of /proc/self/task/<tid>/stat.
func threadNices() ([]string, error) {
	tids, err := threads()
	if err != nil {
		return nil, err
	}
	var nices []string
	for _, tid := range tids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
		if err != nil {
			continue // the thread has ended
		}
		// The command name (field 2) may hold spaces; fields after it are
		// counted from its closing parenthesis.
		rest := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		nices = append(nices, rest[16])
	}
	return nices, nil
}
