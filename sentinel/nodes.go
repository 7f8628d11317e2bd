package sentinel

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// Limits on what users and nodes may set.
const (
	maxNameLen     = 100
	maxMaxParallel = 1024
	maxCores       = 4096
	maxVersionLen  = 64
	maxPlatformLen = 64
	maxHostnameLen = 255 // a DNS name's limit; the hostname is not stored
)

// node returns the node owning pub, or a KindNotFound "Node not found".
// An unclaimed registration older than UnclaimedNodeTTL counts as gone:
// the node registers again, which renews its claim code.
func (s *Service) node(ctx context.Context, pub ed25519.PublicKey) (store.Node, error) {
	n, err := s.nodeByKey(ctx, protocol.EncodePublicKey(pub))
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.registrationExpired(n)) {
		return n, refuse(KindNotFound, "Node not found")
	}
	if err != nil {
		return n, fmt.Errorf("look up node: %w", err)
	}
	return n, nil
}

// registrationExpired reports whether n is unclaimed and registered more
// than UnclaimedNodeTTL ago: its claim code no longer claims it.
func (s *Service) registrationExpired(n store.Node) bool {
	return n.UserID == "" && !s.clock.Now().Before(n.CreatedAt.Add(UnclaimedNodeTTL))
}

// claimedNode is node, refusing unclaimed ones with "Node not claimed".
func (s *Service) claimedNode(ctx context.Context, pub ed25519.PublicKey) (store.Node, error) {
	n, err := s.node(ctx, pub)
	if err != nil {
		return n, err
	}
	if n.UserID == "" {
		return n, refuse(KindNotFound, "Node not claimed")
	}
	return n, nil
}

// Register stores a node for pub, or returns the one already stored
// (idempotent by key; its reported version, platform and cores are updated).
func (s *Service) Register(ctx context.Context, pub ed25519.PublicKey, req protocol.RegisterRequest) (protocol.RegisterResponse, error) {
	switch {
	case req.TotalCores < 0 || req.TotalCores > maxCores:
		return protocol.RegisterResponse{}, refuse(KindInvalid, "totalCores must be between 0 and %d", maxCores)
	case req.EnabledCores < 0 || req.EnabledCores > maxCores:
		return protocol.RegisterResponse{}, refuse(KindInvalid, "enabledCores must be between 0 and %d", maxCores)
	}
	if req.Chunks != nil {
		if err := req.Chunks.Validate(); err != nil {
			return protocol.RegisterResponse{}, refuse(KindInvalid, "%v", err)
		}
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{{"version", req.Version, maxVersionLen}, {"platform", req.Platform, maxPlatformLen}, {"hostname", req.Hostname, maxHostnameLen}} {
		if err := checkLine(f.name, f.value, f.max); err != nil {
			return protocol.RegisterResponse{}, err
		}
	}
	now := s.clock.Now()
	key := protocol.EncodePublicKey(pub)
	update := store.NodeUpdate{Version: req.Version, Platform: req.Platform, TotalCores: req.TotalCores}
	switch known, err := s.nodeByKey(ctx, key); {
	case errors.Is(err, store.ErrNotFound):
		// Only new registrations count against the address: a node
		// registering again is idempotent and costs nothing.
		if addr := addressOf(ctx); addr != "" {
			if ok, wait := s.registrationsByAdr.take(addr, now); !ok {
				s.log.Warn("registrations refused", "address", addr)
				return protocol.RegisterResponse{}, tooMany(wait, "Too many new nodes registered from this address")
			}
		}
	case err != nil:
		return protocol.RegisterResponse{}, fmt.Errorf("look up node: %w", err)
	case s.registrationExpired(known):
		update.Renew = now
	}
	n, created, err := s.store.RegisterNode(ctx, store.NewNode{
		PublicKey: key, ClaimCode: protocol.ClaimCode(pub),
		Version: req.Version, Platform: req.Platform, TotalCores: req.TotalCores, Now: now,
	}, update)
	if err != nil {
		return protocol.RegisterResponse{}, fmt.Errorf("register node: %w", err)
	}
	if created {
		s.log.Info("node registered", "node", n.ID, "platform", n.Platform, "cores", n.TotalCores)
	}
	if err := s.recordOffer(ctx, n, req.Chunks); err != nil {
		return protocol.RegisterResponse{}, err
	}
	// A claimed node's code is cleared in the row; the node still knows it
	// from its key, so answer the derived one.
	return protocol.RegisterResponse{ID: n.ID, ClaimCode: protocol.ClaimCode(pub), Claimed: n.UserID != ""}, nil
}

// VerifyNode answers POST /nodes/verify: the claimed node of pub.
func (s *Service) VerifyNode(ctx context.Context, pub ed25519.PublicKey) (protocol.NodeInfo, error) {
	n, err := s.claimedNode(ctx, pub)
	if err != nil {
		return protocol.NodeInfo{}, err
	}
	return protocol.NodeInfo{ID: n.ID, Name: n.Name, MaxParallel: n.MaxParallel, Status: n.Status, Claimed: true}, nil
}

// Heartbeat records that the claimed node of pub is alive and online, with
// the capacity it reports (extension; none: only max_parallel and its
// cores limit it). A node coming back online or changing its capacity is
// scheduled for at once: the scheduler is kicked.
func (s *Service) Heartbeat(ctx context.Context, pub ed25519.PublicKey, req protocol.HeartbeatRequest) (protocol.NodeInfo, error) {
	if req.Status != protocol.NodeOnline && req.Status != protocol.NodeOffline {
		return protocol.NodeInfo{}, refuse(KindInvalid, "status must be %q or %q", protocol.NodeOnline, protocol.NodeOffline)
	}
	if c := req.Capacity; c != nil && (*c < 0 || *c > maxCores) {
		return protocol.NodeInfo{}, refuse(KindInvalid, "capacity must be between 0 and %d", maxCores)
	}
	if req.Chunks != nil {
		if err := req.Chunks.Validate(); err != nil {
			return protocol.NodeInfo{}, refuse(KindInvalid, "%v", err)
		}
	}
	n, err := s.claimedNode(ctx, pub)
	if err != nil {
		return protocol.NodeInfo{}, err
	}
	if req.Status == protocol.NodeOffline {
		// A node shutting down: no new work for it from now on.
		if _, err := s.store.MarkNodeOffline(ctx, n.ID); err != nil {
			return protocol.NodeInfo{}, fmt.Errorf("record shutdown: %w", err)
		}
		s.log.Info("node going offline", "node", n.ID)
		return protocol.NodeInfo{ID: n.ID, Name: n.Name, MaxParallel: n.MaxParallel, Status: protocol.NodeOffline}, nil
	}
	// The capacity first: a node coming online paused gets nothing. The
	// row was read with the request: an unchanged capacity writes nothing.
	changed := false
	if !sameCapacity(n.Capacity, req.Capacity) {
		var err error
		if changed, err = s.store.SetNodeCapacity(ctx, n.ID, req.Capacity); err != nil {
			return protocol.NodeInfo{}, fmt.Errorf("record capacity: %w", err)
		}
	}
	if changed {
		s.log.Info("node capacity", "node", n.ID, "capacity", capacityText(req.Capacity))
	}
	if err := s.recordOffer(ctx, n, req.Chunks); err != nil {
		return protocol.NodeInfo{}, err
	}
	if !s.aliveEnough(n) {
		if err := s.touch(ctx, n.ID); err != nil {
			return protocol.NodeInfo{}, err
		}
	}
	if changed {
		s.Kick()
	}
	return protocol.NodeInfo{ID: n.ID, Name: n.Name, MaxParallel: n.MaxParallel, Status: protocol.NodeOnline}, nil
}

// sameCapacity reports whether two capacities (nil: none reported) are equal.
func sameCapacity(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func capacityText(c *int) string {
	if c == nil {
		return "not reported"
	}
	return fmt.Sprint(*c)
}

// throughputSlack is how far a node's announced throughput may move before
// it is stored again: chunk sizes follow it closely enough, and steady
// heartbeats write nothing.
const throughputSlack = 0.1

// recordOffer stores a node's sized-chunk offer (none: nil) when it
// differs from the stored one: another largest chunk, or a throughput
// more than throughputSlack away. A changed offer changes what the node
// may be given, so the scheduler is kicked.
func (s *Service) recordOffer(ctx context.Context, n store.Node, o *protocol.ChunkOffer) error {
	var chunkMax int
	var tp float64
	if o != nil {
		chunkMax, tp = o.MaxIterations, o.Throughput
	}
	same := chunkMax == n.ChunkMax && math.Abs(tp-n.Throughput) <= throughputSlack*n.Throughput && (tp == 0) == (n.Throughput == 0)
	if same {
		return nil
	}
	if err := s.store.SetNodeChunks(ctx, n.ID, chunkMax, tp); err != nil {
		return fmt.Errorf("record chunk offer: %w", err)
	}
	s.Kick()
	return nil
}

// aliveEnough reports whether a heartbeat of n changes nothing: n is
// online and either holds presence on this instance (whose liveness pass
// refreshes it) or was seen within the presence touch interval, well
// inside the offline limit. Such heartbeats write no row.
func (s *Service) aliveEnough(n store.Node) bool {
	if n.Status != protocol.NodeOnline {
		return false
	}
	s.mu.Lock()
	present := s.present[n.ID] > 0
	s.mu.Unlock()
	return present || s.clock.Now().Sub(n.LastSeenAt) < s.touchInterval()
}

// touchInterval is how often a live node's last_seen_at is refreshed.
func (s *Service) touchInterval() time.Duration {
	return min(PresenceTouchInterval, s.offlineAfter/3)
}

func (s *Service) touch(ctx context.Context, ids ...string) error {
	came, err := s.store.TouchNodes(ctx, ids, s.clock.Now())
	if err != nil {
		return fmt.Errorf("record heartbeat: %w", err)
	}
	if len(came) > 0 {
		s.log.Info("nodes online", "nodes", came)
		s.Kick()
	}
	return nil
}

// PresenceTracked records that a node holds realtime presence on this
// instance (the gateway calls it on a presence track). While held, the
// node counts as alive as if it sent heartbeats.
func (s *Service) PresenceTracked(ctx context.Context, nodeID string) error {
	s.mu.Lock()
	s.present[nodeID]++
	s.mu.Unlock()
	return s.touch(ctx, nodeID)
}

// PresenceUntracked records that one presence of a node on this instance
// ended (untrack, leave or a closed socket). The node then ages out unless
// it heartbeats or holds presence elsewhere.
func (s *Service) PresenceUntracked(nodeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.present[nodeID] <= 1 {
		delete(s.present, nodeID)
		return
	}
	s.present[nodeID]--
}

// NodeClaims are the claims of a node token. They follow the Supabase
// convention (role, sub, aud, exp, iat) plus node_id marking it a node's.
type NodeClaims struct {
	Role   string `json:"role"`
	NodeID string `json:"node_id"`
	jwt.RegisteredClaims
}

// NodeToken issues a short-lived HS256 token for the registered node of pub.
func (s *Service) NodeToken(ctx context.Context, pub ed25519.PublicKey) (protocol.TokenResponse, error) {
	n, err := s.node(ctx, pub)
	if err != nil {
		return protocol.TokenResponse{}, err
	}
	now := s.clock.Now()
	exp := now.Add(TokenTTL)
	claims := NodeClaims{
		Role: "authenticated", NodeID: n.ID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: n.ID, Audience: jwt.ClaimStrings{"authenticated"},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return protocol.TokenResponse{}, fmt.Errorf("sign node token: %w", err)
	}
	return protocol.TokenResponse{Token: tok, ExpiresAt: exp.Unix()}, nil
}

// ParseNodeToken checks a node token's signature, algorithm and expiry and
// returns its claims (the gateway authorises realtime and REST with it).
func (s *Service) ParseNodeToken(token string) (NodeClaims, error) {
	var c NodeClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(s.clock.Now), jwt.WithExpirationRequired())
	if err != nil {
		return NodeClaims{}, refuse(KindUnauthorized, "invalid token: %v", err)
	}
	if c.NodeID == "" || c.NodeID != c.Subject {
		return NodeClaims{}, refuse(KindUnauthorized, "not a node token")
	}
	return c, nil
}

// AddUser creates a user and returns it with its token, which is shown
// once: only its hash is stored.
func (s *Service) AddUser(ctx context.Context, name string) (store.User, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return store.User{}, "", refuse(KindInvalid, "a user name must have 1 to %d characters", maxNameLen)
	}
	if err := checkLine("the user name", name, maxNameLen); err != nil {
		return store.User{}, "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return store.User{}, "", fmt.Errorf("make token: %w", err)
	}
	token := "wlu_" + base64.RawURLEncoding.EncodeToString(raw)
	u := store.User{ID: uuid.NewString(), Name: name, TokenHash: hashToken(token), CreatedAt: s.clock.Now()}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return store.User{}, "", err
	}
	return u, token, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// AuthenticateUser returns the user owning a user token.
func (s *Service) AuthenticateUser(ctx context.Context, token string) (store.User, error) {
	if token == "" {
		return store.User{}, refuse(KindUnauthorized, "missing user token")
	}
	u, err := s.store.UserByTokenHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return u, refuse(KindUnauthorized, "invalid user token")
	}
	if err != nil {
		return u, fmt.Errorf("authenticate: %w", err)
	}
	return u, nil
}

// ClaimableNode is what verify_claim_code shows about an unclaimed node.
type ClaimableNode struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Platform    string `json:"platform"`
	TotalCores  int    `json:"totalCores"`
	MaxParallel int    `json:"maxParallel"`
}

// CodeCheck is a user trying a claim code (verify_claim_code).
type CodeCheck struct {
	UserID string
	// Address is the caller's (ClientAddress); the limits on codes tried
	// apply to callers over the network, not to an operator's command,
	// which leaves it empty.
	Address string
	// Code is as typed: any case, with or without a dash.
	Code string
}

// VerifyClaimCode finds the unclaimed node with a claim code and lets the
// user claim it by its id for ClaimCheckTTL. Every try over the network
// counts against the user's and the address's limits (ClaimChecksPerUser,
// ClaimChecksPerAddress): guessing codes is refused with KindTooMany long
// before it could find one.
func (s *Service) VerifyClaimCode(ctx context.Context, c CodeCheck) (ClaimableNode, error) {
	n, err := s.checkCode(ctx, c)
	if err != nil {
		return ClaimableNode{}, err
	}
	err = s.store.RecordClaimCheck(ctx, store.ClaimCheck{NodeID: n.ID, UserID: c.UserID, Expires: s.clock.Now().Add(ClaimCheckTTL)})
	if errors.Is(err, store.ErrNotFound) {
		return ClaimableNode{}, refuse(KindNotFound, "Invalid or expired claim code")
	}
	if err != nil {
		return ClaimableNode{}, fmt.Errorf("record claim check: %w", err)
	}
	return ClaimableNode{ID: n.ID, Name: n.Name, Platform: n.Platform, TotalCores: n.TotalCores, MaxParallel: n.MaxParallel}, nil
}

// checkCode spends one try of the user and the address (for a caller over
// the network), then finds the unclaimed, unexpired node with the code.
func (s *Service) checkCode(ctx context.Context, c CodeCheck) (store.Node, error) {
	if c.Address != "" {
		now := s.clock.Now()
		if ok, wait := s.claimChecksByUser.take(c.UserID, now); !ok {
			s.log.Warn("claim code checks refused", "user", c.UserID, "address", c.Address)
			return store.Node{}, tooMany(wait, "Too many claim codes tried by this user")
		}
		if ok, wait := s.claimChecksByAddr.take(c.Address, now); !ok {
			s.log.Warn("claim code checks refused", "user", c.UserID, "address", c.Address)
			return store.Node{}, tooMany(wait, "Too many claim codes tried from this address")
		}
	}
	return s.nodeByCode(ctx, c.Code)
}

func (s *Service) nodeByCode(ctx context.Context, code string) (store.Node, error) {
	code = protocol.NormalizeClaimCode(code)
	if !protocol.ValidClaimCode(code) {
		return store.Node{}, refuse(KindNotFound, "Invalid or expired claim code")
	}
	n, err := s.store.NodeByClaimCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.registrationExpired(n)) {
		return n, refuse(KindNotFound, "Invalid or expired claim code")
	}
	if err != nil {
		return n, fmt.Errorf("look up claim code: %w", err)
	}
	return n, nil
}

// ClaimRequest claims a node for a user: by Code (an operator's command, or
// a portal sending the code), or by NodeID alone when the same user checked
// the node's code (VerifyClaimCode) in the last ClaimCheckTTL; with both,
// the code must be the node's. Name and MaxParallel stay as they are when
// nil.
type ClaimRequest struct {
	UserID string
	NodeID string
	Code   string
	// Address is the caller's, as in CodeCheck.
	Address     string
	Name        *string
	MaxParallel *int
}

// ClaimedNode answers a claim.
type ClaimedNode struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	MaxParallel int    `json:"maxParallel"`
	Status      string `json:"status"`
	Platform    string `json:"platform"`
	TotalCores  int    `json:"totalCores"`
}

// ClaimNode gives an unclaimed node to a user.
func (s *Service) ClaimNode(ctx context.Context, req ClaimRequest) (ClaimedNode, error) {
	if req.Name != nil {
		name := strings.TrimSpace(*req.Name)
		if name == "" {
			return ClaimedNode{}, refuse(KindInvalid, "a node name must have 1 to %d characters", maxNameLen)
		}
		if err := checkLine("the node name", name, maxNameLen); err != nil {
			return ClaimedNode{}, err
		}
		req.Name = &name
	}
	if req.MaxParallel != nil && (*req.MaxParallel < 1 || *req.MaxParallel > maxMaxParallel) {
		return ClaimedNode{}, refuse(KindInvalid, "maxParallel must be between 1 and %d", maxMaxParallel)
	}
	if _, err := s.store.UserByID(ctx, req.UserID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ClaimedNode{}, refuse(KindNotFound, "no user %q", req.UserID)
		}
		return ClaimedNode{}, err
	}
	nodeID, err := s.claimable(ctx, req)
	if err != nil {
		return ClaimedNode{}, err
	}
	n, err := s.store.ClaimNode(ctx, store.Claim{NodeID: nodeID, UserID: req.UserID, Name: req.Name, MaxParallel: req.MaxParallel})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ClaimedNode{}, refuse(KindNotFound, "Node not found")
	case errors.Is(err, store.ErrConflict):
		return ClaimedNode{}, refuse(KindConflict, "Node is already claimed")
	case err != nil:
		return ClaimedNode{}, fmt.Errorf("claim node: %w", err)
	}
	s.log.Info("node claimed", "node", n.ID, "user", req.UserID)
	return ClaimedNode{ID: n.ID, Name: n.Name, MaxParallel: n.MaxParallel, Status: n.Status, Platform: n.Platform, TotalCores: n.TotalCores}, nil
}

// claimable returns the id of the node req may claim: the node of its code,
// or a node whose code the user checked recently.
func (s *Service) claimable(ctx context.Context, req ClaimRequest) (string, error) {
	if req.Code != "" {
		n, err := s.checkCode(ctx, CodeCheck{UserID: req.UserID, Address: req.Address, Code: req.Code})
		if err != nil {
			return "", err
		}
		if req.NodeID != "" && req.NodeID != n.ID {
			return "", refuse(KindNotFound, "Invalid or expired claim code")
		}
		return n.ID, nil
	}
	notChecked := refuse(KindForbidden, "Check the node's claim code first (verify_claim_code), then claim it within %v", ClaimCheckTTL)
	exp, err := s.store.ClaimCheckExpiry(ctx, req.NodeID, req.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", notChecked
	case err != nil:
		return "", fmt.Errorf("read claim check: %w", err)
	case !s.clock.Now().Before(exp):
		return "", notChecked
	}
	n, err := s.store.NodeByID(ctx, req.NodeID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", refuse(KindNotFound, "Node not found")
	case err != nil:
		return "", fmt.Errorf("read node: %w", err)
	case s.registrationExpired(n):
		return "", refuse(KindNotFound, "Invalid or expired claim code")
	}
	return n.ID, nil
}

// GrantNode lets the jobs of another user with access type "user" run on a
// node the owner owns.
func (s *Service) GrantNode(ctx context.Context, ownerID, nodeID, granteeID string) error {
	n, err := s.store.NodeByID(ctx, nodeID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(KindNotFound, "Node not found")
	}
	if err != nil {
		return err
	}
	if n.UserID != ownerID {
		return refuse(KindForbidden, "not your node")
	}
	if _, err := uuid.Parse(granteeID); err != nil {
		return refuse(KindInvalid, "grantee must be a user id")
	}
	return s.store.GrantNode(ctx, nodeID, "user", granteeID)
}

// NodeOwner returns the id of the user who claimed a node, for operator
// commands acting on the owner's behalf.
func (s *Service) NodeOwner(ctx context.Context, nodeID string) (string, error) {
	n, err := s.store.NodeByID(ctx, nodeID)
	if errors.Is(err, store.ErrNotFound) {
		return "", refuse(KindNotFound, "Node not found")
	}
	if err != nil {
		return "", err
	}
	if n.UserID == "" {
		return "", refuse(KindConflict, "Node not claimed")
	}
	return n.UserID, nil
}

// ListNodes returns every node (an administrator's view).
func (s *Service) ListNodes(ctx context.Context) ([]store.Node, error) {
	return s.store.ListNodes(ctx)
}
