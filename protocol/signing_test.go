package protocol

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

type signingVector struct {
	PrivateKeySeedHex string `json:"privateKeySeedHex"`
	PublicKeyBase64   string `json:"publicKeyBase64"`
	ClaimCode         string `json:"claimCode"`
	Timestamp         string `json:"timestamp"`
	Method            string `json:"method"`
	Path              string `json:"path"`
	Body              string `json:"body"`
	BodySha256Hex     string `json:"bodySha256Hex"`
	SignatureBase64   string `json:"signatureBase64"`
}

// vectorFiles are the checked-in copy of the contract's vectors and, when
// this checkout sits beside the shared docs, the contract's own file.
func vectorFiles(t *testing.T) []string {
	files := []string{filepath.Join("testdata", "signing_vectors.json")}
	shared := filepath.Join("..", "..", "shared", "testdata", "signing_vectors.json")
	if _, err := os.Stat(shared); err == nil {
		files = append(files, shared)
	}
	return files
}

func loadVectors(t *testing.T, path string) []signingVector {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vs []signingVector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatalf("%s holds no vectors", path)
	}
	return vs
}

func TestSigningVectors(t *testing.T) {
	for _, file := range vectorFiles(t) {
		for i, v := range loadVectors(t, file) {
			t.Run(file+"#"+strconv.Itoa(i), func(t *testing.T) {
				seed, err := hex.DecodeString(v.PrivateKeySeedHex)
				if err != nil {
					t.Fatal(err)
				}
				key := ed25519.NewKeyFromSeed(seed)
				pub := key.Public().(ed25519.PublicKey)
				if got := EncodePublicKey(pub); got != v.PublicKeyBase64 {
					t.Errorf("public key %s, want %s", got, v.PublicKeyBase64)
				}
				if got := ClaimCode(pub); got != v.ClaimCode {
					t.Errorf("claim code %s, want %s", got, v.ClaimCode)
				}
				if got := BodyHash([]byte(v.Body)); got != v.BodySha256Hex {
					t.Errorf("body hash %s, want %s", got, v.BodySha256Hex)
				}
				ts, err := strconv.ParseInt(v.Timestamp, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				h := Sign(key, ts, v.Method, v.Path, []byte(v.Body))
				if h.Signature != v.SignatureBase64 || h.Timestamp != v.Timestamp || h.Key != v.PublicKeyBase64 {
					t.Errorf("headers %+v, want signature %s", h, v.SignatureBase64)
				}
				got, err := Verify(h, v.Method, v.Path, []byte(v.Body), time.Unix(ts+10, 0))
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				if !got.Equal(pub) {
					t.Error("verify returned another key")
				}
			})
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	now := time.Unix(1767225600, 0)
	body := []byte(`{"status":"online"}`)
	good := Sign(key, now.Unix(), "POST", PathHeartbeat, body)
	cases := []struct {
		name   string
		mutate func(h *Headers)
		path   string
		body   []byte
		at     time.Time
		want   string
	}{
		{"missing key", func(h *Headers) { h.Key = "" }, PathHeartbeat, body, now, "Missing X-Node-Key header"},
		{"missing ts", func(h *Headers) { h.Timestamp = "" }, PathHeartbeat, body, now, "Missing X-Node-Ts header"},
		{"missing sig", func(h *Headers) { h.Signature = "" }, PathHeartbeat, body, now, "Missing X-Node-Sig header"},
		{"ts not integer", func(h *Headers) { h.Timestamp = "12.5" }, PathHeartbeat, body, now, "Invalid timestamp"},
		{"ts too old", nil, PathHeartbeat, body, now.Add(301 * time.Second), "Request timestamp expired"},
		{"ts in future", nil, PathHeartbeat, body, now.Add(-301 * time.Second), "Request timestamp expired"},
		{"short key", func(h *Headers) { h.Key = "AAAA" }, PathHeartbeat, body, now, "Invalid public key length"},
		{"key not base64", func(h *Headers) { h.Key = "!!" }, PathHeartbeat, body, now, "Invalid public key encoding"},
		{"short sig", func(h *Headers) { h.Signature = "AAAA" }, PathHeartbeat, body, now, "Invalid signature length"},
		{"other path", nil, PathVerify, body, now, "Invalid signature"},
		{"other body", nil, PathHeartbeat, []byte(`{"status":"offline"}`), now, "Invalid signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := good
			if c.mutate != nil {
				c.mutate(&h)
			}
			_, err := Verify(h, "POST", c.path, c.body, c.at)
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Reason != c.want {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	if _, err := Verify(good, "POST", PathHeartbeat, body, now.Add(299*time.Second)); err != nil {
		t.Fatalf("within skew: %v", err)
	}
}

func TestNormalizeClaimCode(t *testing.T) {
	for in, want := range map[string]string{"d62-75y": "D6275Y", " D6275Y ": "D6275Y", "d6 27 5y": "D6275Y"} {
		if got := NormalizeClaimCode(in); got != want {
			t.Errorf("NormalizeClaimCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidClaimCode(t *testing.T) {
	for code, want := range map[string]bool{"D6275Y": true, "ABCDEF": true, "234567": true,
		"D6275": false, "D6275YY": false, "D6275y": false, "D6275!": false, "D6275\x00": false, "D62018": false, "": false} {
		if got := ValidClaimCode(code); got != want {
			t.Errorf("ValidClaimCode(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestPlatform(t *testing.T) {
	cases := map[[2]string]string{
		{"linux", "amd64"}:   "linux-x86_64",
		{"darwin", "arm64"}:  "macos-aarch64",
		{"windows", "amd64"}: "windows-x86_64",
		{"linux", "arm64"}:   "linux-aarch64",
	}
	for in, want := range cases {
		if got := Platform(in[0], in[1]); got != want {
			t.Errorf("Platform(%s, %s) = %s, want %s", in[0], in[1], got, want)
		}
	}
}
