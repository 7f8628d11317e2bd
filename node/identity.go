package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"wowlab/protocol"
)

// KeyFile is the name of the private seed file in the config directory.
const KeyFile = "keypair"

// Identity is the node's Ed25519 key pair (PROTOCOL section 1).
type Identity struct {
	key ed25519.PrivateKey
}

// NewIdentity wraps a 32-byte seed.
func NewIdentity(seed []byte) (*Identity, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("key seed has %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return &Identity{key: ed25519.NewKeyFromSeed(seed)}, nil
}

// LoadIdentity reads the key seed from dir/keypair, creating dir (0700; an
// existing dir is narrowed to 0700) and a new key (file mode 0600) when it
// is missing. A file of the wrong length is corrupt: it is replaced by a
// new key and a warning is logged. random is the entropy source (nil:
// crypto/rand).
func LoadIdentity(dir string, random io.Reader, log *slog.Logger) (*Identity, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := makeConfigDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, KeyFile)
	seed, err := os.ReadFile(path)
	switch {
	case err == nil && len(seed) == ed25519.SeedSize:
		return NewIdentity(seed)
	case err == nil:
		log.Warn("key file is corrupt, generating a new key (the node will need to be claimed again)",
			"path", path, "bytes", len(seed))
	case errors.Is(err, fs.ErrNotExist):
		log.Info("generating node key", "path", path)
	default:
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if random == nil {
		random = rand.Reader
	}
	seed = make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(random, seed); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	if err := writeFileAtomic(path, seed, 0o600); err != nil {
		return nil, fmt.Errorf("save key: %w", err)
	}
	return NewIdentity(seed)
}

// PublicKey returns the public key in wire form (standard base64).
func (id *Identity) PublicKey() string {
	return protocol.EncodePublicKey(id.key.Public().(ed25519.PublicKey))
}

// ClaimCode returns the six-character code a user types to claim this node.
func (id *Identity) ClaimCode() string {
	return protocol.ClaimCode(id.key.Public().(ed25519.PublicKey))
}

// Sign returns the authentication headers of a request made at Unix time ts.
func (id *Identity) Sign(ts int64, method, path string, body []byte) protocol.Headers {
	return protocol.Sign(id.key, ts, method, path, body)
}

// makeConfigDir creates the config directory with mode 0700, and narrows
// an existing one to 0700: it holds the node's private key.
func makeConfigDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	if runtime.GOOS == "windows" {
		return nil // no Unix permission bits; the user's profile is private
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	if st.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("make config directory private: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to path, syncs it,
// renames it into place and syncs the directory, so neither a crash nor a
// power cut leaves a half-written file or loses a completed write.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// (its file system journals the rename itself).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
