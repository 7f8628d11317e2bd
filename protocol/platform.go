package protocol

// Platform returns the `platform` string of a node in the original
// spellings: os linux, macos or windows; arch x86_64 or aarch64. Other
// values of Go's GOOS and GOARCH pass through unchanged.
func Platform(goos, goarch string) string {
	switch goos {
	case "darwin":
		goos = "macos"
	}
	switch goarch {
	case "amd64":
		goarch = "x86_64"
	case "arm64":
		goarch = "aarch64"
	}
	return goos + "-" + goarch
}
