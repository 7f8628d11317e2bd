package update

import (
	"strings"

	"golang.org/x/mod/semver"
)

// TagVersion returns the semantic version a release tag names, whatever
// prefix the tag carries: "v1.2.3", "1.2.3", "node-v1.2.3" and
// "node-headless/v1.2.3" all give "v1.2.3". The version must be complete
// (major, minor and patch) and canonical; build metadata is refused.
func TagVersion(tag string) (string, bool) {
	for i := 0; i < len(tag); i++ {
		if i > 0 && !strings.ContainsRune("-_/", rune(tag[i-1])) {
			continue
		}
		v := tag[i:]
		if !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		if semver.IsValid(v) && semver.Canonical(v) == v {
			return v, true
		}
	}
	return "", false
}

// IsRelease reports whether v is a canonical semantic version, as release
// builds are stamped; a development build ("dev", "(devel)") is not.
func IsRelease(v string) bool { return semver.IsValid(v) && semver.Canonical(v) == v }

// Newer reports whether version a is above b.
func Newer(a, b string) bool { return semver.Compare(a, b) > 0 }

// isPrerelease reports whether v carries a prerelease part ("-rc.1").
func isPrerelease(v string) bool { return semver.Prerelease(v) != "" }
