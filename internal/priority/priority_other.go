//go:build !linux && !windows && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package priority

// Lower reports ErrUnsupported for any level but Normal.
func Lower(l Level) error {
	if l == Normal {
		return nil
	}
	return ErrUnsupported
}
