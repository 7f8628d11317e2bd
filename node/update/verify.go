package update

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"aead.dev/minisign"
)

// ErrSignature is returned when SHA256SUMS is not signed by a trusted key.
var ErrSignature = errors.New("SHA256SUMS is not signed by a trusted release key")

// ParsePublicKey reads a minisign public key: its base64 line, or the
// whole .pub file with its comment line.
func ParsePublicKey(s string) (minisign.PublicKey, error) {
	var k minisign.PublicKey
	if err := k.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return minisign.PublicKey{}, fmt.Errorf("release key: %w", err)
	}
	return k, nil
}

// verifySums checks that sig is a minisign signature of sums by one of
// keys.
func verifySums(keys []minisign.PublicKey, sums, sig []byte) error {
	for _, k := range keys {
		if minisign.Verify(k, sums, sig) {
			return nil
		}
	}
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return fmt.Errorf("%w: the signature cannot be read: %v", ErrSignature, err)
	}
	return fmt.Errorf("%w (signed by key %X)", ErrSignature, s.KeyID)
}

// Sums is a parsed SHA256SUMS file: file name to SHA-256.
type Sums map[string][32]byte

// ParseSums reads lines of "hex  name" (or "hex *name", sha256sum's binary
// mode). A malformed line, an unsafe name or a name listed twice is an
// error: the file is signed, so anything odd in it is refused, not
// skipped.
func ParseSums(raw []byte) (Sums, error) {
	sums := Sums{}
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		hexSum, name, ok := strings.Cut(string(line), " ")
		name, _ = strings.CutPrefix(strings.TrimPrefix(name, " "), "*")
		var sum [32]byte
		if !ok || len(hexSum) != 2*len(sum) {
			return nil, fmt.Errorf("%s line %d: want \"<sha256 hex>  <file name>\"", SumsFile, i+1)
		}
		if _, err := hex.Decode(sum[:], []byte(hexSum)); err != nil {
			return nil, fmt.Errorf("%s line %d: want \"<sha256 hex>  <file name>\"", SumsFile, i+1)
		}
		if !validFileName(name) {
			return nil, fmt.Errorf("%s line %d: %q is not a plain file name", SumsFile, i+1, name)
		}
		if _, dup := sums[name]; dup {
			return nil, fmt.Errorf("%s line %d: %s is listed twice", SumsFile, i+1, name)
		}
		sums[name] = sum
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("%s lists no files", SumsFile)
	}
	return sums, nil
}
