//go:build darwin && !cgo

package main

// trayBuilt says whether this build has a tray icon: macOS's needs cgo,
// and this build has none.
const trayBuilt = false

func trayAvailable(func(string) string) bool { return false }

func runTray(t *tray) { <-t.done }
