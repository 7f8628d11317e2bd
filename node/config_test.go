package node

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigMissingWritesDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	c, err := LoadConfig(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != DefaultConfig() {
		t.Fatalf("got %+v", c)
	}
	st, err := os.Stat(filepath.Join(dir, ConfigFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v", err, st)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := Config{NodeID: "6f1c2a9e-2f4b-4a51-9d55-0b7f4c3e2a10", APIURL: "http://127.0.0.1:9000/base",
		SentinelURL: "https://s.example", AnonKey: "anon=with;specials"}
	if err := SaveConfig(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(dir, nil)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if !strings.HasPrefix(string(raw), "[node]") {
		t.Fatalf("file does not start with [node]: %q", raw)
	}
}

func TestLoadConfigParsesHandWrittenFile(t *testing.T) {
	dir := t.TempDir()
	text := "; comment\n[node]\nnode_id = 6f1c2a9e-2f4b-4a51-9d55-0b7f4c3e2a10\napi_url=http://localhost:8080\n"
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{NodeID: "6f1c2a9e-2f4b-4a51-9d55-0b7f4c3e2a10", APIURL: "http://localhost:8080", SentinelURL: DefaultSentinelURL, AutoUpdate: true}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

func TestLoadConfigAutoUpdate(t *testing.T) {
	for text, want := range map[string]bool{"": true, "auto_update = false\n": false, "auto_update=true\n": true, "auto_update = 0\n": false} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte("[node]\n"+text), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(dir, nil)
		if err != nil || c.AutoUpdate != want {
			t.Errorf("%q: AutoUpdate = %v, %v; want %v", text, c.AutoUpdate, err, want)
		}
	}
}

func TestLoadConfigCorruptIsBackedUp(t *testing.T) {
	tests := []struct{ name, text string }{
		{"no delimiter", "[node]\nthis is not ini\n"},
		{"unclosed section", "[node\nnode_id=x\n"},
		{"bad node id", "[node]\nnode_id=not-a-uuid\n"},
		{"bad url", "[node]\napi_url=ftp://x\n"},
		{"bad auto_update", "[node]\nauto_update=sometimes\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ConfigFile)
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			c, err := LoadConfig(dir, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if c != DefaultConfig() {
				t.Fatalf("got %+v, want defaults", c)
			}
			bak, err := os.ReadFile(path + ".bak")
			if err != nil || string(bak) != tt.text {
				t.Fatalf("backup: %v %q", err, bak)
			}
			again, err := LoadConfig(dir, nil)
			if err != nil || again != DefaultConfig() {
				t.Fatalf("rewritten file: %+v %v", again, err)
			}
			if !strings.Contains(logs.String(), "WARN") {
				t.Fatalf("no warning: %s", logs.String())
			}
		})
	}
}

func TestConfigOverridesAreNotSaved(t *testing.T) {
	dir := t.TempDir()
	saved, err := LoadConfig(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	eff, err := saved.With(Overrides{APIURL: "http://127.0.0.1:1", AnonKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if eff.APIURL != "http://127.0.0.1:1" || eff.AnonKey != "k" || eff.SentinelURL != DefaultSentinelURL {
		t.Fatalf("effective %+v", eff)
	}
	again, _ := LoadConfig(dir, nil)
	if again != DefaultConfig() {
		t.Fatalf("file changed: %+v", again)
	}
	if _, err := saved.With(Overrides{SentinelURL: "not a url"}); err == nil {
		t.Fatal("bad override accepted")
	}
}

func TestSaveConfigRejectsBadValues(t *testing.T) {
	dir := t.TempDir()
	if err := SaveConfig(dir, Config{NodeID: "x", APIURL: DefaultAPIURL, SentinelURL: DefaultSentinelURL}); err == nil {
		t.Fatal("bad node id saved")
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); !os.IsNotExist(err) {
		t.Fatal("file written despite error")
	}
}
