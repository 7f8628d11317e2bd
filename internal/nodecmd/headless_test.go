package nodecmd

import (
	"io"

	"github.com/spf13/cobra"
)

// newRoot is node-headless's command tree, which most tests drive.
func newRoot(out io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	return NewRoot(Headless(), out, lookupEnv)
}

// headlessName is node-headless's name in releases.
var headlessName = Headless().Name
