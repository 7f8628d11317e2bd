package userdir

import (
	"path/filepath"
	"testing"
)

func TestData(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		os   string
		env  map[string]string
		want string
	}{
		{"linux", nil, "/home/u/.local/share/app"},
		{"linux", map[string]string{"XDG_DATA_HOME": "/data"}, "/data/app"},
		{"linux", map[string]string{"XDG_DATA_HOME": "rel"}, "/home/u/.local/share/app"},
		{"darwin", nil, "/home/u/Library/Application Support/app"},
		{"windows", map[string]string{"LocalAppData": "/appdata"}, "/appdata/app"},
	}
	for _, tt := range tests {
		got, err := data("app", env(tt.env), home, tt.os)
		if err != nil || filepath.ToSlash(got) != tt.want {
			t.Errorf("%s %v: %q %v, want %q", tt.os, tt.env, got, err, tt.want)
		}
	}
	if _, err := data("app", env(nil), home, "windows"); err == nil {
		t.Error("windows without LocalAppData: want error")
	}
}
