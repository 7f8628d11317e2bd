// Command engine runs the WoWLab simulation engine from the command line:
// it simulates a config (or a bundled example) and prints DPS statistics,
// lists the simulated specs, and validates rotation scripts. It runs the
// very same engine code as a node does for a chunk.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
