package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wowlab/internal/cli"
	"wowlab/internal/release"
	"wowlab/node/update"
)

func runCmd(env map[string]string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := cli.Run(newRoot(&out, &errOut, func(k string) (string, bool) { v, ok := env[k]; return v, ok }), args, &errOut)
	return out.String(), errOut.String(), code
}

func TestKeygen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "release.key")
	out, errOut, code := runCmd(nil, "keygen", path)
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, errOut)
	}
	pub, err := update.ParsePublicKey(out)
	if err != nil {
		t.Fatalf("keygen printed %q: %v", out, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", fi, err)
	}
	key, err := release.ReadKey(path)
	if err != nil || key.ID() != pub.ID() {
		t.Fatalf("key %v, id %X against %X", err, key.ID(), pub.ID())
	}
	before, _ := os.ReadFile(path)
	if _, errOut, code := runCmd(nil, "keygen", path); code != 2 || !strings.Contains(errOut, "never overwrites") {
		t.Fatalf("second keygen: %d %s", code, errOut)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("the key was overwritten")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"build", "1.2.3", t.TempDir()}, "WOWLAB_RELEASE_KEY"},
		{nil, []string{"build", "1.2.3"}, "accepts 2 arg"},
		{nil, []string{"binary", "engine", "--platform", "plan9/386", "--version", "1.2.3", "-o", "x"}, "no releases are built for plan9/386"},
		{nil, []string{"binary", "engine", "--version", "one", "-o", "x"}, "semantic version"},
		{nil, []string{"binary", "engine", "--version", "1.2.3"}, "-o is required"},
	} {
		if _, errOut, code := runCmd(tc.env, tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: %d %q, want 2 with %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestBuildRefusesUnknownBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if _, errOut, code := runCmd(nil, "keygen", path); code != 0 {
		t.Fatal(errOut)
	}
	_, errOut, code := runCmd(map[string]string{"WOWLAB_RELEASE_KEY": path}, "build", "--root", "../../..", "--binaries", "node-headless,nope", "1.2.3", t.TempDir())
	if code != 2 || !strings.Contains(errOut, `"nope" is not one of node-headless`) {
		t.Fatalf("%d %s", code, errOut)
	}
}
