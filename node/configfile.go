package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/ini.v1"

	"wowlab/node/policy"
)

// policySection holds the volunteer's policies in config.ini.
const policySection = "policy"

// readConfigFile parses dir/config.ini for a change to one of its
// sections; a missing file reads as empty.
func readConfigFile(dir string) (*ini.File, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return ini.Empty(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{KeyValueDelimiters: "="}, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return f, nil
}

// LoadPolicy reads the [policy] section of dir/config.ini. A missing file,
// section or key takes its value from policy.DefaultSettings. A key the
// node does not know or a value it cannot use is an error naming both: a
// node does not run against rules it cannot follow.
func LoadPolicy(dir string) (policy.Settings, error) {
	s := policy.DefaultSettings()
	f, err := readConfigFile(dir)
	if err != nil {
		return s, err
	}
	sec, err := f.GetSection(policySection)
	if err != nil {
		return s, nil // no [policy] section
	}
	path := filepath.Join(dir, ConfigFile)
	for _, k := range sec.Keys() {
		if key, ok := policy.LookupKey(k.Name()); !ok || key.Name != k.Name() {
			return s, fmt.Errorf("%s [%s]: unknown key %q (known: %s)", path, policySection, k.Name(), keyNames())
		}
		if err := s.Set(k.Name(), k.String()); err != nil {
			return s, fmt.Errorf("%s [%s] %w", path, policySection, err)
		}
	}
	return s, nil
}

func keyNames() string {
	var names []string
	for _, k := range policy.Keys() {
		names = append(names, k.Name)
	}
	return fmt.Sprint(names)
}

// SavePolicy writes s as the [policy] section of dir/config.ini, every key
// with its meaning as a comment, atomically and keeping the other sections.
func SavePolicy(dir string, s policy.Settings) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	f, err := readConfigFile(dir)
	if err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	sec := f.Section(policySection)
	for _, name := range sec.KeyStrings() {
		if key, ok := policy.LookupKey(name); !ok || key.Name != name {
			sec.DeleteKey(name)
		}
	}
	for _, key := range policy.Keys() {
		v, _ := s.Value(key.Name)
		k, err := sec.NewKey(key.Name, v)
		if err != nil {
			return fmt.Errorf("save policy: %w", err)
		}
		k.Comment = "; " + key.Usage
	}
	var buf bytesBuffer
	if _, err := f.WriteTo(&buf); err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	if err := makeConfigDir(dir); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, ConfigFile), buf, 0o600); err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	return nil
}
