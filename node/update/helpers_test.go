package update_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// writeHold records version as rolled back from, where f.updater's
// HoldFile points.
func writeHold(t *testing.T, binary, version string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(filepath.Dir(binary), "hold"), []byte(version+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
