package main

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"wowlab/node"
)

func TestIcons(t *testing.T) {
	p := iconPNG(64, iconBlue)
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 64 {
		t.Fatalf("icon is %v", b)
	}
	// The corner is outside the rounded square, the middle of the first
	// stroke of the W is white, a point inside the square off the W is
	// the background.
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Fatalf("corner alpha %d, want transparent", a)
	}
	if r, g, b, _ := img.At(17, 33).RGBA(); r>>8 != 0xff || g>>8 != 0xff || b>>8 != 0xff {
		t.Fatalf("the W's stroke is %x %x %x", r>>8, g>>8, b>>8)
	}
	if r, g, b, _ := img.At(32, 56).RGBA(); r>>8 != uint32(iconBlue.R) || g>>8 != uint32(iconBlue.G) || b>>8 != uint32(iconBlue.B) {
		t.Fatalf("the background is %x %x %x", r>>8, g>>8, b>>8)
	}

	ico := iconICO(32, iconPause)
	le := binary.LittleEndian
	if le.Uint16(ico[0:]) != 0 || le.Uint16(ico[2:]) != 1 || le.Uint16(ico[4:]) != 1 || ico[6] != 32 || ico[7] != 32 {
		t.Fatalf("ICO header % x", ico[:8])
	}
	size, off := le.Uint32(ico[14:]), le.Uint32(ico[18:])
	if int(off)+int(size) != len(ico) {
		t.Fatalf("ICO entry: %d bytes at %d in %d", size, off, len(ico))
	}
	if _, err := png.Decode(bytes.NewReader(ico[off:])); err != nil {
		t.Fatalf("the ICO's image: %v", err)
	}
}

func TestOpenCommand(t *testing.T) {
	for _, tc := range []struct {
		goos, name string
		args       []string
	}{
		{"linux", "xdg-open", []string{"http://127.0.0.1:17317/"}},
		{"freebsd", "xdg-open", []string{"http://127.0.0.1:17317/"}},
		{"darwin", "open", []string{"http://127.0.0.1:17317/"}},
		{"windows", "rundll32", []string{"url.dll,FileProtocolHandler", "http://127.0.0.1:17317/"}},
	} {
		name, args := openCommand(tc.goos, "http://127.0.0.1:17317/")
		if name != tc.name || !slices.Equal(args, tc.args) {
			t.Errorf("%s: %s %v", tc.goos, name, args)
		}
	}
}

func TestTrayAvailable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the environment decides only on Linux and the BSDs")
	}
	run := t.TempDir()
	withBus := t.TempDir()
	if err := os.WriteFile(filepath.Join(withBus, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"server without a display", map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}, false},
		{"X11 with a session bus", map[string]string{"DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"}, true},
		{"Wayland with the bus in the runtime dir", map[string]string{"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": withBus}, true},
		{"display without any bus", map[string]string{"DISPLAY": ":0", "XDG_RUNTIME_DIR": run}, false},
	} {
		if got := trayAvailable(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The tray's line and whether Finish is greyed out follow the node's state.
func TestTrayStateOf(t *testing.T) {
	for _, c := range []struct {
		st       node.State
		paused   bool
		text     string
		stopping bool
	}{
		{node.State{Phase: node.Running}, false, "running", false},
		{node.State{Phase: node.Running}, true, "paused", false},
		{node.State{Phase: node.Claiming, ClaimCode: "KQ7M2X"}, false, "waiting for claim (code KQ7M2X)", false},
		{node.State{Phase: node.Finishing}, true, "finishing", true},
		{node.State{Phase: node.Finished}, false, "finished", true},
		{node.State{Phase: node.Finished, Unlinked: true}, false, "unlinked: start again to link this computer", true},
	} {
		if got := trayStateOf(c.st, c.paused); got.text != c.text || got.stopping != c.stopping {
			t.Errorf("%v (paused %v): %+v, want %q, stopping %v", c.st, c.paused, got, c.text, c.stopping)
		}
	}
}
