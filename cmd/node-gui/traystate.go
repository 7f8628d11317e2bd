package main

// tray is what the tray icon's menu does and shows; the node's side of it.
type tray struct {
	open        func()
	togglePause func()
	finish      func()
	quit        func()
	states      chan trayState // the node's state as it changes
	done        chan struct{}  // closed when the program ends: the tray goes
}

// trayState is what the tray shows of the node.
type trayState struct {
	text     string // the status in words, for the tooltip
	paused   bool
	stopping bool // finishing or finished: Finish is greyed out
}
