package version

import "testing"

func TestStringNotEmpty(t *testing.T) {
	if s := String(); s == "" {
		t.Fatal("String() is empty")
	}
}
