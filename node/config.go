package node

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/uuid"
	"gopkg.in/ini.v1"

	"wowlab/internal/userdir"
)

// Config file name and section (PROTOCOL section 7).
const (
	ConfigFile    = "config.ini"
	configSection = "node"
)

// Default service URLs.
const (
	DefaultAPIURL      = "https://api.wowlab.gg"
	DefaultSentinelURL = "https://sentinel.wowlab.gg"
)

// Config is the node's persistent settings, the [node] section of
// config.ini in its config directory.
type Config struct {
	NodeID      string // empty until registered
	APIURL      string // REST and Realtime base URL
	SentinelURL string // node API base URL
	AnonKey     string // the backend's public anon key
	AutoUpdate  bool   // install signed releases by itself (auto_update, default true)
}

// DefaultConfig returns the settings of a node that has never run.
func DefaultConfig() Config {
	return Config{APIURL: DefaultAPIURL, SentinelURL: DefaultSentinelURL, AutoUpdate: true}
}

// Validate reports the first setting that cannot be used.
func (c Config) Validate() error {
	if c.NodeID != "" {
		if _, err := uuid.Parse(c.NodeID); err != nil {
			return fmt.Errorf("node_id %q is not a UUID", c.NodeID)
		}
	}
	if err := checkBaseURL("api_url", c.APIURL); err != nil {
		return err
	}
	return checkBaseURL("sentinel_url", c.SentinelURL)
}

func checkBaseURL(name, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s %q is not an http(s) URL without query", name, s)
	}
	return nil
}

// LoadConfig reads dir/config.ini. A missing file yields the defaults and is
// written. A file that cannot be parsed, or holds unusable values, is
// renamed to config.ini.bak (a warning is logged) and replaced by the
// defaults. Missing keys take their defaults.
func LoadConfig(dir string, log *slog.Logger) (Config, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(dir, ConfigFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c := DefaultConfig()
		return c, SaveConfig(dir, c)
	}
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, perr := parseConfig(raw)
	if perr == nil {
		return c, nil
	}
	backup := path + ".bak"
	log.Warn("config file is invalid, keeping it as a backup and using defaults", "path", path, "backup", backup, "err", perr)
	if err := os.Rename(path, backup); err != nil {
		return Config{}, fmt.Errorf("back up invalid config: %w", err)
	}
	c = DefaultConfig()
	return c, SaveConfig(dir, c)
}

func parseConfig(raw []byte) (Config, error) {
	f, err := ini.LoadSources(ini.LoadOptions{KeyValueDelimiters: "="}, raw)
	if err != nil {
		return Config{}, err
	}
	c := DefaultConfig()
	if s, err := f.GetSection(configSection); err == nil {
		get := func(key, def string) string {
			if k, err := s.GetKey(key); err == nil && k.String() != "" {
				return k.String()
			}
			return def
		}
		c.NodeID = get("node_id", "")
		c.APIURL = get("api_url", c.APIURL)
		c.SentinelURL = get("sentinel_url", c.SentinelURL)
		c.AnonKey = get("anon_key", "")
		if v := get("auto_update", ""); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("auto_update %q is not true or false", v)
			}
			c.AutoUpdate = b
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// SaveConfig writes c as the [node] section of dir/config.ini (mode 0600,
// dir 0700), atomically, keeping the file's other sections.
func SaveConfig(dir string, c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := makeConfigDir(dir); err != nil {
		return err
	}
	f, err := readConfigFile(dir)
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	s, err := f.NewSection(configSection)
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	for _, kv := range [][2]string{
		{"node_id", c.NodeID}, {"api_url", c.APIURL}, {"sentinel_url", c.SentinelURL}, {"anon_key", c.AnonKey},
		{"auto_update", strconv.FormatBool(c.AutoUpdate)},
	} {
		if _, err := s.NewKey(kv[0], kv[1]); err != nil {
			return fmt.Errorf("save config: %w", err)
		}
	}
	var buf bytesBuffer
	if _, err := f.WriteTo(&buf); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, ConfigFile), buf, 0o600); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// Overrides replace settings for one run without being saved; empty fields
// leave the saved value.
type Overrides struct {
	APIURL      string
	SentinelURL string
	AnonKey     string
}

// With returns c with the overrides applied, or an error naming a bad value.
func (c Config) With(o Overrides) (Config, error) {
	if o.APIURL != "" {
		c.APIURL = o.APIURL
	}
	if o.SentinelURL != "" {
		c.SentinelURL = o.SentinelURL
	}
	if o.AnonKey != "" {
		c.AnonKey = o.AnonKey
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// DefaultConfigDir returns the OS user config directory plus wowlab-node.
func DefaultConfigDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory: %w", err)
	}
	return filepath.Join(d, "wowlab-node"), nil
}

// DefaultLogDir returns the OS user data directory plus wowlab-node/logs
// ($XDG_DATA_HOME or ~/.local/share on Linux and other Unix systems,
// ~/Library/Application Support on macOS, %LocalAppData% on Windows).
func DefaultLogDir() (string, error) {
	d, err := userdir.Data("wowlab-node")
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "logs"), nil
}
