package probe

import (
	"path/filepath"
	"testing"

	"wowlab/node/policy"
)

// A machine without a system bus, such as a server or a container, has no
// session and counts as idle.
func TestInputIdleWithoutSystemBus(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	d, err := New(nil).Input.InputIdle(t.Context())
	if err != nil || d != policy.NoSession {
		t.Fatalf("%v %v", d, err)
	}
}
