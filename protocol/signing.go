package protocol

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header names of a signed node request (PROTOCOL section 2).
const (
	HeaderKey       = "X-Node-Key"
	HeaderTimestamp = "X-Node-Ts"
	HeaderSignature = "X-Node-Sig"
)

// MaxClockSkew is how far a request's timestamp may differ from the
// server's clock, in either direction.
const MaxClockSkew = 300 * time.Second

// MaxBodyBytes is the largest signed request body the sentinel accepts.
const MaxBodyBytes = 1 << 20

// BodyHash returns the lowercase hex SHA-256 of body, the last field of the
// signed message.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// SignedMessage builds the bytes a node signs: timestamp, upper-case method,
// path (no query string) and body hash, joined by single NUL bytes.
func SignedMessage(ts int64, method, path string, body []byte) []byte {
	var b strings.Builder
	b.Grow(20 + len(method) + len(path) + 64 + 3)
	b.WriteString(strconv.FormatInt(ts, 10))
	b.WriteByte(0)
	b.WriteString(strings.ToUpper(method))
	b.WriteByte(0)
	b.WriteString(path)
	b.WriteByte(0)
	b.WriteString(BodyHash(body))
	return []byte(b.String())
}

// Headers are the three authentication headers of a signed request.
type Headers struct {
	Key       string // standard base64 of the 32-byte public key
	Timestamp string // Unix seconds, decimal
	Signature string // standard base64 of the 64-byte signature
}

// Sign signs a request made at time ts and returns its headers.
func Sign(key ed25519.PrivateKey, ts int64, method, path string, body []byte) Headers {
	sig := ed25519.Sign(key, SignedMessage(ts, method, path, body))
	return Headers{
		Key:       EncodePublicKey(key.Public().(ed25519.PublicKey)),
		Timestamp: strconv.FormatInt(ts, 10),
		Signature: base64.StdEncoding.EncodeToString(sig),
	}
}

// EncodePublicKey returns the wire form of a public key: standard base64 with padding.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// DecodePublicKey parses the wire form of a public key.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("Invalid public key encoding")
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("Invalid public key length")
	}
	return ed25519.PublicKey(raw), nil
}

// VerifyError is a refusal of a signed request; its message is the text of
// the 401 body's "error" field.
type VerifyError struct{ Reason string }

func (e *VerifyError) Error() string { return e.Reason }

func refuse(format string, args ...any) error {
	return &VerifyError{Reason: fmt.Sprintf(format, args...)}
}

// Verify checks a signed request against the server clock now. It checks
// everything PROTOCOL section 2 lists except the body size (the caller reads
// the body with a limit) and replays (the caller keeps the memory of seen
// signatures). It returns the caller's public key.
func Verify(h Headers, method, path string, body []byte, now time.Time) (ed25519.PublicKey, error) {
	if h.Key == "" {
		return nil, refuse("Missing %s header", HeaderKey)
	}
	if h.Timestamp == "" {
		return nil, refuse("Missing %s header", HeaderTimestamp)
	}
	if h.Signature == "" {
		return nil, refuse("Missing %s header", HeaderSignature)
	}
	ts, err := strconv.ParseInt(h.Timestamp, 10, 64)
	if err != nil {
		return nil, refuse("Invalid timestamp")
	}
	skew := now.Unix() - ts
	if skew > int64(MaxClockSkew/time.Second) || skew < -int64(MaxClockSkew/time.Second) {
		return nil, refuse("Request timestamp expired")
	}
	pub, err := DecodePublicKey(h.Key)
	if err != nil {
		return nil, refuse("%s", err.Error())
	}
	sig, err := base64.StdEncoding.DecodeString(h.Signature)
	if err != nil {
		return nil, refuse("Invalid signature encoding")
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, refuse("Invalid signature length")
	}
	if !ed25519.Verify(pub, SignedMessage(ts, method, path, body), sig) {
		return nil, refuse("Invalid signature")
	}
	return pub, nil
}
