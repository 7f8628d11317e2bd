// Command pgoprofile writes default.pgo, the CPU profile from which the Go
// toolchain optimises (profile-guided optimisation, PGO) the binaries
// that run the engine. It simulates the bundled examples on one core while
// profiling, merges the profiles and writes the result into the directory
// of every such main package, where `go build` picks it up on its own.
//
// Run it from the repository root after changing the engine's hot paths:
//
//	go run -trimpath ./internal/cmd/pgoprofile
//
// -trimpath keeps the paths of this machine out of the profile; the
// command refuses to write a profile that still holds one.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/google/pprof/profile"

	"wowlab/engine"
	"wowlab/examples"
)

// targets are the main packages that simulate: the engine CLI and the
// node. Each gets the same profile.
var targets = []string{"cmd/engine", "cmd/node-headless"}

// workload is what the profile records: the bundled profiles, in the
// shares a node's work is likely to have (the specs' defaults most).
var workload = []struct {
	example    string
	iterations int
}{
	{"bm_hunter.json", 30_000},
	{"bm_dark_ranger.json", 15_000},
	{"mm_hunter.json", 30_000},
	{"mm_sentinel.json", 15_000},
}

func main() {
	root := flag.String("root", ".", "repository root to write the profiles under")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "pgoprofile:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	var profiles []*profile.Profile
	for _, w := range workload {
		p, err := profileExample(w.example, w.iterations)
		if err != nil {
			return err
		}
		profiles = append(profiles, p)
	}
	merged, err := profile.Merge(profiles)
	if err != nil {
		return fmt.Errorf("merge profiles: %w", err)
	}
	merged = clean(merged)
	if err := checkPaths(merged); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := merged.Write(&buf); err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	for _, dir := range targets {
		path := filepath.Join(root, dir, "default.pgo")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}

// profileExample simulates a bundled example on one goroutine while the
// CPU profiler runs, and returns the profile.
func profileExample(name string, iterations int) (*profile.Profile, error) {
	doc, err := examples.FS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	sim, err := engine.Compile(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return nil, err
	}
	_, err = sim.Run(context.Background(), 0, iterations, engine.RunOptions{Threads: 1})
	pprof.StopCPUProfile()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return profile.Parse(&buf)
}

// clean drops what PGO does not read and what would tie the profile to
// this machine: the executable's path and build ID, and the comments.
func clean(p *profile.Profile) *profile.Profile {
	for _, m := range p.Mapping {
		m.File = filepath.Base(m.File)
		m.BuildID = ""
	}
	p.Comments = nil
	return p
}

// errLocalPath reports a profile that names a file by absolute path.
var errLocalPath = errors.New("profile names a file by its absolute path; run with go run -trimpath")

// checkPaths refuses a profile whose functions or mappings name absolute
// paths.
func checkPaths(p *profile.Profile) error {
	for _, f := range p.Function {
		if filepath.IsAbs(f.Filename) {
			return fmt.Errorf("%w: %s", errLocalPath, f.Filename)
		}
	}
	for _, m := range p.Mapping {
		if filepath.IsAbs(m.File) {
			return fmt.Errorf("%w: %s", errLocalPath, m.File)
		}
	}
	return nil
}
