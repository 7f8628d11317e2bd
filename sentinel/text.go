package sentinel

// Checks on the texts nodes and users send before any reaches the store:
// PostgreSQL refuses a NUL byte in text and jsonb (so it would fail the
// whole call with an internal error), and control characters in names and
// versions end up printed on an operator's terminal.

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkLine refuses a one-line text that is longer than max bytes, is not
// UTF-8, or holds a control character (NUL, escape, newline, C1...).
func checkLine(field, s string, max int) error {
	if len(s) > max {
		return refuse(KindInvalid, "%s is longer than %d bytes", field, max)
	}
	if err := checkChars(field, s, false); err != nil {
		return err
	}
	return nil
}

// checkText refuses a text that is not UTF-8 or holds a control character
// other than tab, newline and carriage return.
func checkText(field, s string) error { return checkChars(field, s, true) }

func checkChars(field, s string, multiline bool) error {
	if !utf8.ValidString(s) {
		return refuse(KindInvalid, "%s is not valid UTF-8", field)
	}
	for i, r := range s {
		if !unicode.IsControl(r) || (multiline && (r == '\t' || r == '\n' || r == '\r')) {
			continue
		}
		return refuse(KindInvalid, "%s holds the control character %U at byte %d", field, r, i)
	}
	return nil
}

// checkJSONStrings reports a NUL character in any string, key or value, of
// a decoded JSON value: jsonb cannot store \u0000.
func checkJSONStrings(v any) error {
	var walk func(v any, path string) error
	walk = func(v any, path string) error {
		switch x := v.(type) {
		case string:
			if strings.ContainsRune(x, 0) {
				return fmt.Errorf("the string at %s holds a NUL character (\\u0000), which cannot be stored", path)
			}
		case map[string]any:
			for k, e := range x {
				if strings.ContainsRune(k, 0) {
					return fmt.Errorf("a key in %s holds a NUL character (\\u0000), which cannot be stored", path)
				}
				if err := walk(e, path+"."+k); err != nil {
					return err
				}
			}
		case []any:
			for i, e := range x {
				if err := walk(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v, "$")
}
