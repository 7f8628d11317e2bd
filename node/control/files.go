package control

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// keyBytes is the API key's length before hex encoding.
const keyBytes = 32

// loadKey returns the API key of dir, creating it (mode 0600) when there
// is none or the file does not hold one. A key file readable by others is
// narrowed to 0600.
func loadKey(dir string, random io.Reader, log *slog.Logger) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create config directory: %w", err)
	}
	path := filepath.Join(dir, KeyFile)
	for attempt := 0; attempt < 2; attempt++ {
		raw, err := os.ReadFile(path)
		switch {
		case err == nil && validKey(strings.TrimSpace(string(raw))):
			if err := narrow(path, log); err != nil {
				return "", err
			}
			return strings.TrimSpace(string(raw)), nil
		case err == nil:
			log.Warn("control API key file is corrupt, making a new key", "path", path)
			if err := os.Remove(path); err != nil {
				return "", fmt.Errorf("replace API key: %w", err)
			}
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("read API key: %w", err)
		}
		key, err := newToken(random, keyBytes)
		if err != nil {
			return "", err
		}
		// O_EXCL: of two nodes starting at once, one writes and the other
		// reads what it wrote.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("create API key: %w", err)
		}
		_, werr := f.WriteString(key)
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			os.Remove(path)
			return "", fmt.Errorf("write API key: %w", err)
		}
		return key, nil
	}
	return "", errors.New("API key file keeps changing; is another node starting?")
}

func validKey(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == keyBytes
}

// narrow makes the key file private to its owner where the OS has Unix
// permission bits.
func narrow(path string, log *slog.Logger) error {
	if runtime.GOOS == "windows" {
		return nil // the user's profile is private; no mode bits to fix
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check API key: %w", err)
	}
	if st.Mode().Perm() != 0o600 {
		log.Warn("control API key file was readable by others; made it private", "path", path, "mode", st.Mode().Perm().String())
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("make API key private: %w", err)
		}
	}
	return nil
}

// newToken returns n random bytes in hex.
func newToken(random io.Reader, n int) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// readURL returns the API address written in dir, or ErrNotRunning.
func readURL(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, URLFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotRunning
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", URLFile, err)
	}
	s := strings.TrimSpace(string(raw))
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.Port() == "" {
		return "", fmt.Errorf("%w (%s holds %q)", ErrNotRunning, URLFile, s)
	}
	return s, nil
}
