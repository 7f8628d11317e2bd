// Command node-headless runs a WoWLab simulation node without a user
// interface: as a daemon, in a container or in a terminal.
package main

import (
	"os"

	"wowlab/internal/cli"
)

func main() {
	cli.Main(newRoot(os.Stdout, os.LookupEnv))
}
