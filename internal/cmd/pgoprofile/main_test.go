package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

const repoRoot = "../../.."

// The committed profiles are one profile, free of local paths, that
// records the engine at work.
func TestCommittedProfiles(t *testing.T) {
	var first []byte
	for _, dir := range targets {
		b, err := os.ReadFile(filepath.Join(repoRoot, dir, "default.pgo"))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Errorf("%s/default.pgo differs from %s/default.pgo; regenerate both with go run -trimpath ./internal/cmd/pgoprofile", dir, targets[0])
		}
	}
	p, err := profile.Parse(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPaths(p); err != nil {
		t.Error(err)
	}
	var engine int64
	for _, s := range p.Sample {
		for _, loc := range s.Location {
			if len(loc.Line) > 0 && strings.HasPrefix(loc.Line[0].Function.Name, "wowlab/engine.") {
				engine += s.Value[0]
				break
			}
		}
	}
	if engine == 0 {
		t.Error("no sample of the profile is in the engine")
	}
}

func TestCheckPathsRefusesLocalPaths(t *testing.T) {
	tests := []struct {
		name string
		p    *profile.Profile
	}{
		{"function file", &profile.Profile{Function: []*profile.Function{{Filename: "/home/me/wowlab/engine/state.go"}}}},
		{"mapping", &profile.Profile{Mapping: []*profile.Mapping{{File: "/tmp/go-build123/exe/pgoprofile"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkPaths(tt.p); !errors.Is(err, errLocalPath) {
				t.Errorf("checkPaths = %v, want errLocalPath", err)
			}
		})
	}
	trimmed := &profile.Profile{Function: []*profile.Function{{Filename: "wowlab/engine/state.go"}}}
	if err := checkPaths(trimmed); err != nil {
		t.Errorf("trimmed paths: %v", err)
	}
}

func TestCleanDropsTheExecutablePath(t *testing.T) {
	p := &profile.Profile{
		Mapping:  []*profile.Mapping{{File: "/tmp/go-build123/exe/pgoprofile", BuildID: "abc"}},
		Comments: []string{"built on a machine"},
	}
	clean(p)
	if m := p.Mapping[0]; m.File != "pgoprofile" || m.BuildID != "" || p.Comments != nil {
		t.Errorf("after clean: mapping %q build ID %q comments %q", m.File, m.BuildID, p.Comments)
	}
}
