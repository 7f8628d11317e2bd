// Command node-headless runs a WoWLab simulation node without a user
// interface: as a daemon, in a container or in a terminal.
package main

import (
	"os"

	"wowlab/internal/cli"
	"wowlab/internal/nodecmd"
)

func main() {
	cli.Main(nodecmd.NewRoot(nodecmd.Headless(), os.Stdout, os.LookupEnv))
}
