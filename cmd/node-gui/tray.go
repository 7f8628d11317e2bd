//go:build !(darwin && !cgo)

package main

import (
	"os"
	"path/filepath"
	"runtime"

	"fyne.io/systray"
)

// trayBuilt says whether this build has a tray icon: macOS's needs cgo.
const trayBuilt = true

// trayAvailable reports whether the desktop offers a tray: always on
// Windows and macOS; on Linux and the BSDs only in a graphical session
// with a D-Bus session bus (the StatusNotifierItem protocol's transport).
func trayAvailable(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	if getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "bus")); err == nil {
			return true
		}
	}
	return false
}

// runTray shows the tray icon and its menu and blocks until t.done is
// closed. It must run on the main goroutine (macOS's event loop).
func runTray(t *tray) {
	systray.Run(func() { trayReady(t) }, nil)
}

func trayReady(t *tray) {
	icon := func(paused bool) []byte {
		c := iconBlue
		if paused {
			c = iconPause
		}
		if runtime.GOOS == "windows" {
			return iconICO(32, c)
		}
		return iconPNG(64, c)
	}
	systray.SetIcon(icon(false))
	systray.SetTitle("")
	systray.SetTooltip("WoWLab node")
	open := systray.AddMenuItem("Open dashboard", "Open the node's dashboard in the browser")
	systray.AddSeparator()
	pause := systray.AddMenuItem("Pause", "Take no new chunks; running ones finish")
	finish := systray.AddMenuItem("Finish and stop", "Finish the chunks the node holds, take no new ones")
	systray.AddSeparator()
	quit := systray.AddMenuItem("Quit", "Stop the node: running chunks get their grace period, the rest is handed back")
	systray.SetOnTapped(t.open)
	go func() {
		paused := false
		for {
			select {
			case <-t.done:
				systray.Quit()
				return
			case s := <-t.states:
				systray.SetTooltip("WoWLab node: " + s.text)
				if s.paused != paused {
					paused = s.paused
					systray.SetIcon(icon(paused))
					if paused {
						pause.SetTitle("Resume")
					} else {
						pause.SetTitle("Pause")
					}
				}
				if s.stopping {
					finish.Disable()
				} else {
					finish.Enable()
				}
			case <-open.ClickedCh:
				t.open()
			case <-pause.ClickedCh:
				t.togglePause()
			case <-finish.ClickedCh:
				t.finish()
			case <-quit.ClickedCh:
				t.quit()
			}
		}
	}()
}
