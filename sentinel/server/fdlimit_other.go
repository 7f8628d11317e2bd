//go:build !unix

package server

// isTooManyFiles reports false: the limit is Unix's.
func isTooManyFiles(error) bool { return false }

// openFileLimit reports that the limit is unknown.
func openFileLimit() (uint64, bool) { return 0, false }
