// Package version reports the version of the running binary.
package version

import "runtime/debug"

// linked is set at link time with
// -ldflags "-X wowlab/internal/version.linked=v1.2.3"; it is never written at run time.
var linked string

// String returns the binary's version: the link-time value when set, else
// the main module's version from the build info, else "dev".
func String() string {
	if linked != "" {
		return linked
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Line is what the version command of binary at version v prints, such
// as "node-headless v1.2.3"; the updater reads it back from a new binary
// before installing it.
func Line(binary, v string) string { return binary + " " + v }
