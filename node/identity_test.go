package node

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"wowlab/node/policy"
	"wowlab/protocol"
)

func TestLoadIdentityCreatesAndReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	id1, err := LoadIdentity(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Size() != ed25519.SeedSize {
		t.Fatalf("key file mode %v size %d", st.Mode().Perm(), st.Size())
	}
	dst, _ := os.Stat(dir)
	if dst.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", dst.Mode().Perm())
	}
	id2, err := LoadIdentity(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id1.PublicKey() != id2.PublicKey() {
		t.Fatal("second load produced a different key")
	}
	if len(id1.ClaimCode()) != 6 {
		t.Fatalf("claim code %q", id1.ClaimCode())
	}
}

func TestLoadIdentityReplacesCorruptKey(t *testing.T) {
	for _, size := range []int{0, 31, 33, 64} {
		dir := t.TempDir()
		path := filepath.Join(dir, KeyFile)
		if err := os.WriteFile(path, bytes.Repeat([]byte{7}, size), 0o600); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		id, err := LoadIdentity(dir, bytes.NewReader(bytes.Repeat([]byte{1}, 32)), slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !strings.Contains(logs.String(), "level=WARN") {
			t.Errorf("size %d: no warning logged: %s", size, logs.String())
		}
		raw, _ := os.ReadFile(path)
		if !bytes.Equal(raw, bytes.Repeat([]byte{1}, 32)) {
			t.Errorf("size %d: new seed not saved", size)
		}
		want, _ := NewIdentity(bytes.Repeat([]byte{1}, 32))
		if id.PublicKey() != want.PublicKey() {
			t.Errorf("size %d: key mismatch", size)
		}
	}
}

// TestIdentityMatchesSigningVectors checks key derivation, claim code and
// signatures against the shared worked examples.
func TestIdentityMatchesSigningVectors(t *testing.T) {
	raw, err := os.ReadFile("../protocol/testdata/signing_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Seed      string `json:"privateKeySeedHex"`
		PublicKey string `json:"publicKeyBase64"`
		ClaimCode string `json:"claimCode"`
		Timestamp string `json:"timestamp"`
		Method    string `json:"method"`
		Path      string `json:"path"`
		Body      string `json:"body"`
		Signature string `json:"signatureBase64"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil || len(vectors) == 0 {
		t.Fatalf("vectors: %v (%d)", err, len(vectors))
	}
	for _, v := range vectors {
		seed, err := hex.DecodeString(v.Seed)
		if err != nil {
			t.Fatal(err)
		}
		id, err := NewIdentity(seed)
		if err != nil {
			t.Fatal(err)
		}
		if id.PublicKey() != v.PublicKey {
			t.Errorf("public key %s, want %s", id.PublicKey(), v.PublicKey)
		}
		if id.ClaimCode() != v.ClaimCode {
			t.Errorf("claim code %s, want %s", id.ClaimCode(), v.ClaimCode)
		}
		ts, _ := strconv.ParseInt(v.Timestamp, 10, 64)
		if h := id.Sign(ts, v.Method, v.Path, []byte(v.Body)); h.Signature != v.Signature || h.Timestamp != v.Timestamp {
			t.Errorf("signature %s, want %s", h.Signature, v.Signature)
		}
	}
}

func TestIdentitySignVerifies(t *testing.T) {
	id, _ := NewIdentity(bytes.Repeat([]byte{9}, 32))
	h := id.Sign(1700000000, "POST", "/nodes/verify", nil)
	if _, err := protocol.Verify(h, "POST", "/nodes/verify", nil, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewIdentity([]byte("short")); err == nil {
		t.Fatal("short seed accepted")
	}
}

// An existing config directory open to others is narrowed to 0700, by
// loading the key and by saving the config or the policies: it holds the
// private key.
func TestConfigDirIsMadePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	for name, touch := range map[string]func(dir string) error{
		"LoadIdentity": func(dir string) error { _, err := LoadIdentity(dir, nil, nil); return err },
		"SaveConfig":   func(dir string) error { return SaveConfig(dir, DefaultConfig()) },
		"SavePolicy":   func(dir string) error { return SavePolicy(dir, policy.Settings{}) },
	} {
		dir := filepath.Join(t.TempDir(), "cfg")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
			t.Fatal(err)
		}
		if err := touch(dir); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st, err := os.Stat(dir)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: config directory mode %v (%v), want 0700", name, st.Mode().Perm(), err)
		}
	}
}
