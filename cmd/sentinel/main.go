// Command sentinel is the WoWLab coordinator: it serves the node API and the
// user REST calls on PostgreSQL, and has administrator commands (migrate,
// users, nodes) and user commands (jobs) that talk to a running sentinel.
package main

import (
	"wowlab/internal/cli"
)

func main() { cli.Main(newRoot(osEnv{})) }
