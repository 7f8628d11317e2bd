// Command node-gui is the WoWLab node for desktops: the node of
// node-headless, with a dashboard served on a fixed loopback address and
// opened in the browser, and a tray icon where the desktop has a tray.
package main

import (
	"os"

	"wowlab/internal/cli"
	"wowlab/internal/nodecmd"
)

// DefaultAddr is the dashboard's address: fixed, so a bookmark keeps
// working.
const DefaultAddr = "127.0.0.1:17384"

func main() {
	cli.Main(nodecmd.NewRoot(app(&front{getenv: os.Getenv, open: open}), os.Stdout, os.LookupEnv))
}

func app(f *front) nodecmd.App {
	return nodecmd.App{
		Name:  "node-gui",
		Short: "Run a WoWLab simulation node with a dashboard in the browser",
		Long: "node-gui runs a WoWLab simulation node on this computer and opens its dashboard in the\n" +
			"browser: the claim code to link it to your account, what it simulates, its logs and the rules\n" +
			"for when it may use the computer. A tray icon opens the dashboard, pauses, finishes or quits.\n" +
			"Starting node-gui again opens the dashboard of the node already running.",
		ControlAddr: DefaultAddr,
		ControlFlag: "listen",
		Front:       f,
	}
}
