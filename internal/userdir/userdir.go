// Package userdir finds the per-user data directory of an application the
// way each OS expects it: $XDG_DATA_HOME (or ~/.local/share) on Linux and
// other Unix systems, ~/Library/Application Support on macOS and
// %LocalAppData% on Windows.
package userdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Data returns the data directory of app for the current user.
func Data(app string) (string, error) {
	return data(app, os.Getenv, os.UserHomeDir, runtime.GOOS)
}

func data(app string, getenv func(string) string, home func() (string, error), goos string) (string, error) {
	var base string
	switch goos {
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
	return filepath.Join(base, app), nil
}
