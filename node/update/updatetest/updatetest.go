// Package updatetest gives tests a real update checker that can switch
// automatic updates: a release build of binary in a directory of its own.
package updatetest

import (
	"os"
	"path/filepath"
	"testing"

	"wowlab/node/update"
)

// Checker returns a checker of binary at version (a release, "v1.2.3"),
// with automatic updates forced off for the reason forced when not "", and
// whose switch is saved by save. It never checks a feed by itself.
func Checker(t testing.TB, binary, version, forced string, save func(on bool) error) *update.Checker {
	t.Helper()
	feed, err := update.ParseFeed("github:legacy3/wowlab", "")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), binary)
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	u, err := update.New(update.Options{Binary: binary, Version: version, Feed: feed, Path: bin, InContainer: true})
	if err != nil {
		t.Fatal(err)
	}
	return &update.Checker{Updater: u, Forced: forced, Save: save}
}
