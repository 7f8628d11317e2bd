package release

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"aead.dev/minisign"

	"wowlab/node/update"
)

// GenerateKey returns a new release key pair: the private key in minisign's
// secret key format (unencrypted: keep the file private) and the public
// key.
func GenerateKey() (private []byte, public minisign.PublicKey, err error) {
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		return nil, minisign.PublicKey{}, err
	}
	raw, err := priv.MarshalText()
	if err != nil {
		return nil, minisign.PublicKey{}, err
	}
	return raw, pub, nil
}

// ReadKey reads an unencrypted minisign private key file, refusing one that
// others may read.
func ReadKey(path string) (minisign.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return minisign.PrivateKey{}, fmt.Errorf("release key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return minisign.PrivateKey{}, fmt.Errorf("release key %s has mode %v: make it private (chmod 600)", path, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return minisign.PrivateKey{}, fmt.Errorf("release key: %w", err)
	}
	var k minisign.PrivateKey
	if err := k.UnmarshalText(bytes.TrimSpace(raw)); err != nil {
		return minisign.PrivateKey{}, fmt.Errorf("release key %s: %w", path, err)
	}
	return k, nil
}

// Sums returns SHA256SUMS for files (name to content): one
// "hex  name" line per file in name order, as sha256sum -c reads them.
func Sums(files map[string][]byte) []byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		sum := sha256.Sum256(files[n])
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), n)
	}
	return []byte(b.String())
}

// Sign returns the minisign signature of sums (the prehashed Ed25519 form
// minisign itself writes). Ed25519 is deterministic and the comments are
// fixed by version and commit time, so the same release signs the same.
func Sign(key minisign.PrivateKey, sums []byte, version string, epoch int64) []byte {
	r := minisign.NewReader(bytes.NewReader(sums))
	_, _ = io.Copy(io.Discard, r) // hashes sums; reading a bytes.Reader cannot fail
	trusted := fmt.Sprintf("timestamp:%d\tfile:%s\twowlab %s", epoch, update.SumsFile, version)
	untrusted := fmt.Sprintf("signature from WoWLab release key %X", key.ID())
	return r.SignWithComments(key, trusted, untrusted)
}
