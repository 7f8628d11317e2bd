package sentinel

// One authentication path for the Supabase-compatible gateway: the anon key
// (the apikey every REST and Realtime request carries) and the bearer token
// that decides what a caller may see, which is the anon key itself, a node
// token or a user token.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Caller roles.
const (
	// RoleAnon is a caller holding only the anon key.
	RoleAnon = "anon"
	// RoleNode is a node with a node token (POST /nodes/token).
	RoleNode = "node"
	// RoleUser is a user with a user token ('sentinel users add').
	RoleUser = "user"
)

// AnonKeyTTL is the lifetime of an anon key: long, like a Supabase
// project's, because it is public and identifies the project, not a caller.
const AnonKeyTTL = 10 * 365 * 24 * time.Hour

// anonIssuer marks the sentinel's anon keys.
const anonIssuer = "wowlab-sentinel"

// userTokenPrefix starts every user token (see AddUser).
const userTokenPrefix = "wlu_"

// AnonKey returns an anon key signed with secret: an HS256 JWT with role
// "anon", issued at now and valid for AnonKeyTTL (the Supabase convention).
// It needs no database, so the CLI can print it from the secret alone.
func AnonKey(secret []byte, now time.Time) (string, error) {
	if len(secret) < 32 {
		return "", fmt.Errorf("the JWT secret must be at least 32 bytes")
	}
	claims := jwt.MapClaims{
		"role": RoleAnon, "iss": anonIssuer,
		"iat": now.Unix(), "exp": now.Add(AnonKeyTTL).Unix(),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign anon key: %w", err)
	}
	return tok, nil
}

// Caller is who a bearer token names.
type Caller struct {
	Role   string // RoleAnon, RoleNode or RoleUser
	NodeID string // for RoleNode
	UserID string // for RoleUser
	// ExpiresAt is when the token stops being valid; zero for user tokens,
	// which last until revoked.
	ExpiresAt time.Time
}

// Identity names the caller for per-token limits: "node:<id>", "user:<id>"
// or "anon".
func (c Caller) Identity() string {
	switch c.Role {
	case RoleNode:
		return "node:" + c.NodeID
	case RoleUser:
		return "user:" + c.UserID
	}
	return RoleAnon
}

// gatewayClaims are the claims of any JWT the gateway accepts.
type gatewayClaims struct {
	Role   string `json:"role"`
	NodeID string `json:"node_id"`
	jwt.RegisteredClaims
}

// parseJWT checks a token's signature, algorithm and expiry.
func (s *Service) parseJWT(token string) (gatewayClaims, error) {
	var c gatewayClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(s.clock.Now), jwt.WithExpirationRequired())
	if err != nil {
		return gatewayClaims{}, refuse(KindUnauthorized, "invalid token: %v", err)
	}
	return c, nil
}

// CheckAPIKey accepts a valid anon key (signed with this sentinel's secret,
// not expired) and refuses anything else with KindUnauthorized.
func (s *Service) CheckAPIKey(key string) error {
	if key == "" {
		return refuse(KindUnauthorized, "No API key found in request")
	}
	c, err := s.parseJWT(key)
	if err != nil {
		return refuse(KindUnauthorized, "invalid API key: %v", err)
	}
	if c.Role != RoleAnon {
		return refuse(KindUnauthorized, "invalid API key: not an anon key")
	}
	return nil
}

// Authenticate resolves a bearer token to its caller: the anon key, a node
// token (checked like ParseNodeToken) or a user token (checked like
// AuthenticateUser). Anything else, expired or forged is KindUnauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (Caller, error) {
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, userTokenPrefix) {
		u, err := s.AuthenticateUser(ctx, token)
		if err != nil {
			return Caller{}, err
		}
		return Caller{Role: RoleUser, UserID: u.ID}, nil
	}
	if token == "" {
		return Caller{}, refuse(KindUnauthorized, "missing token")
	}
	c, err := s.parseJWT(token)
	if err != nil {
		return Caller{}, err
	}
	exp := c.ExpiresAt.Time
	switch {
	case c.NodeID != "":
		if c.NodeID != c.Subject {
			return Caller{}, refuse(KindUnauthorized, "not a node token")
		}
		return Caller{Role: RoleNode, NodeID: c.NodeID, ExpiresAt: exp}, nil
	case c.Role == RoleAnon:
		return Caller{Role: RoleAnon, ExpiresAt: exp}, nil
	}
	return Caller{}, refuse(KindUnauthorized, "invalid token: unknown role %q", c.Role)
}
