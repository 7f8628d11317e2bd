package protocol

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"strings"
)

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // RFC 4648

// ClaimCode derives the six-character code a user types to claim a node:
// the first four bytes of SHA-256(public key), read big-endian, cut into six
// 5-bit groups at shifts 27, 22, 17, 12, 7 and 2 (PROTOCOL section 3).
func ClaimCode(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	v := binary.BigEndian.Uint32(sum[:4])
	var code [6]byte
	for i, shift := range [...]uint{27, 22, 17, 12, 7, 2} {
		code[i] = base32Alphabet[(v>>shift)&31]
	}
	return string(code[:])
}

// NormalizeClaimCode turns what a user typed ("d62-75y", " D6275Y ") into
// the stored form: upper case, no dashes or spaces.
func NormalizeClaimCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer("-", "", " ", "").Replace(s)
}

// ValidClaimCode reports whether a normalised code has the shape of a claim
// code: six characters of the RFC 4648 base32 alphabet.
func ValidClaimCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := range len(code) {
		if !strings.ContainsRune(base32Alphabet, rune(code[i])) {
			return false
		}
	}
	return true
}
