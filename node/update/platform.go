package update

import (
	"fmt"
	"strings"
)

// Platform is one operating system and architecture releases are built
// for, with the target triple its archives are named after. The triples
// are those of the original project's release workflow, so archive names
// stay the same across the rewrite.
type Platform struct {
	GOOS, GOARCH string
	Triple       string
}

// platforms is the release matrix, the one list both the release builder
// and the updater read.
var platforms = [...]Platform{
	{"linux", "amd64", "x86_64-unknown-linux-gnu"},
	{"linux", "arm64", "aarch64-unknown-linux-gnu"},
	{"darwin", "amd64", "x86_64-apple-darwin"},
	{"darwin", "arm64", "aarch64-apple-darwin"},
	{"windows", "amd64", "x86_64-pc-windows-msvc"},
}

// Platforms returns the platforms every release is built for.
func Platforms() []Platform { return append([]Platform(nil), platforms[:]...) }

// PlatformFor returns the release platform of goos/goarch, or an error when
// releases are not built for it.
func PlatformFor(goos, goarch string) (Platform, error) {
	for _, p := range platforms {
		if p.GOOS == goos && p.GOARCH == goarch {
			return p, nil
		}
	}
	return Platform{}, fmt.Errorf("no releases are built for %s/%s", goos, goarch)
}

// String returns "goos/goarch".
func (p Platform) String() string { return p.GOOS + "/" + p.GOARCH }

// Exe returns the file name of binary on p ("engine.exe" on Windows).
func (p Platform) Exe(binary string) string {
	if p.GOOS == "windows" {
		return binary + ".exe"
	}
	return binary
}

// ArchiveExt is ".zip" on Windows and ".tar.gz" elsewhere.
func (p Platform) ArchiveExt() string {
	if p.GOOS == "windows" {
		return ".zip"
	}
	return ".tar.gz"
}

// ArchiveName returns the release archive of binary at version (a
// canonical semantic version such as "v1.2.3") for p, for example
// "node-headless-v1.2.3-x86_64-unknown-linux-gnu.tar.gz".
func (p Platform) ArchiveName(binary, version string) string {
	return binary + "-" + version + "-" + p.Triple + p.ArchiveExt()
}

// Files of a release besides the archives.
const (
	SumsFile      = "SHA256SUMS"          // "hex  name" lines, as sha256sum writes them
	SignatureFile = SumsFile + ".minisig" // minisign signature of SumsFile
	IndexFile     = "releases.json"       // a base URL feed's list of releases
	NotesFile     = "RELEASE_NOTES.md"    // the release notes, also the index's body
)

// parseVersionLine returns the version in out when its first line is
// binary's version line (version.Line).
func parseVersionLine(binary string, out []byte) (string, bool) {
	line, _, _ := strings.Cut(string(out), "\n")
	name, v, ok := strings.Cut(strings.TrimRight(line, "\r"), " ")
	if !ok || name != binary || strings.ContainsAny(v, " \t") {
		return "", false
	}
	return v, true
}
