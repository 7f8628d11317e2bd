package node

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
)

const goos = runtime.GOOS

// dataDir resolves the logs directory of DefaultLogDir for the given OS.
func dataDir(getenv func(string) string, home func() (string, error), os string) (string, error) {
	var base string
	switch os {
	case "windows":
		base = getenv("LocalAppData")
		if base == "" {
			return "", errors.New("find data directory: %LocalAppData% is not set")
		}
	case "darwin", "ios":
		h, err := home()
		if err != nil {
			return "", fmt.Errorf("find data directory: %w", err)
		}
		base = filepath.Join(h, "Library", "Application Support")
	default:
		base = getenv("XDG_DATA_HOME")
		if base == "" || !filepath.IsAbs(base) {
			h, err := home()
			if err != nil {
				return "", fmt.Errorf("find data directory: %w", err)
			}
			base = filepath.Join(h, ".local", "share")
		}
	}
	return filepath.Join(base, "wowlab-node", "logs"), nil
}
