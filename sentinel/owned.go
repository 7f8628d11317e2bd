package sentinel

// What a user does with what is theirs: rename, limit and remove nodes,
// list them, cancel jobs, and write rotations. Every method takes the
// user's id and reaches only that user's rows.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"wowlab/engine"
	"wowlab/engine/rotation"
	"wowlab/sentinel/store"
)

// Rotation limits.
const (
	// MaxScriptBytes is the largest rotation script accepted.
	MaxScriptBytes = 256 << 10
	maxSlugLen     = 100
	maxDescLen     = 2000
)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// CancelledError is the error a job cancelled by its user ends with.
const CancelledError = "cancelled by its user"

// NodeSettings are what an owner may change of a node; nil fields stay.
type NodeSettings struct {
	Name        *string `json:"name,omitempty"`
	MaxParallel *int    `json:"max_parallel,omitempty"`
}

// check trims and checks the settings.
func (c *NodeSettings) check() error {
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		if name == "" {
			return refuse(KindInvalid, "a node name must have 1 to %d characters", maxNameLen)
		}
		if err := checkLine("the node name", name, maxNameLen); err != nil {
			return err
		}
		c.Name = &name
	}
	if c.MaxParallel != nil && (*c.MaxParallel < 1 || *c.MaxParallel > maxMaxParallel) {
		return refuse(KindInvalid, "max parallel must be between 1 and %d", maxMaxParallel)
	}
	return nil
}

// UserNodes returns the nodes of userID, newest first.
func (s *Service) UserNodes(ctx context.Context, userID string) ([]store.Node, error) {
	all, err := s.store.ListNodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var own []store.Node
	for _, n := range all {
		if n.UserID == userID {
			own = append(own, n)
		}
	}
	return own, nil
}

// UpdateNode changes a node of userID.
func (s *Service) UpdateNode(ctx context.Context, userID, nodeID string, c NodeSettings) (store.Node, error) {
	if err := c.check(); err != nil {
		return store.Node{}, err
	}
	n, err := s.store.UpdateNode(ctx, store.NodeChange{NodeID: nodeID, UserID: userID, Name: c.Name, MaxParallel: c.MaxParallel})
	if errors.Is(err, store.ErrNotFound) {
		return store.Node{}, refuse(KindNotFound, "Node not found")
	}
	if err != nil {
		return store.Node{}, fmt.Errorf("update node: %w", err)
	}
	s.Kick() // more or fewer slots
	return n, nil
}

// RemoveNode deletes a node of userID; the chunks it ran go to other
// nodes. A node still running registers again, unclaimed, at its next
// request.
func (s *Service) RemoveNode(ctx context.Context, userID, nodeID string) error {
	err := s.store.DeleteNode(ctx, nodeID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(KindNotFound, "Node not found")
	}
	if err != nil {
		return fmt.Errorf("remove node: %w", err)
	}
	s.log.Info("node removed", "node", nodeID, "user", userID)
	s.Kick()
	return nil
}

// CancelJob ends a pending or running job of userID as failed with
// CancelledError, with its unfinished chunks. A job that has ended is a
// KindConflict.
func (s *Service) CancelJob(ctx context.Context, userID, jobID string) error {
	ended, err := s.store.CancelJob(ctx, store.Cancel{JobID: jobID, UserID: userID, Error: CancelledError, Now: s.clock.Now()})
	if errors.Is(err, store.ErrNotFound) {
		return refuse(KindNotFound, "Job not found")
	}
	if err != nil {
		return fmt.Errorf("cancel job: %w", err)
	}
	if !ended {
		return refuse(KindConflict, "the job has already ended")
	}
	s.log.Info("job cancelled", "job", jobID, "user", userID)
	return nil
}

// RotationFields are a rotation's fields as a user writes them; nil
// fields are not set (on create: slug from the name, no description,
// private).
type RotationFields struct {
	Slug        *string `json:"slug"`
	Name        *string `json:"name"`
	Script      *string `json:"script"`
	Description *string `json:"description"`
	IsPublic    *bool   `json:"is_public"`
}

// check trims and checks every field that is set.
func (f *RotationFields) check() error {
	if f.Name != nil {
		name := strings.TrimSpace(*f.Name)
		if name == "" {
			return refuse(KindInvalid, "a rotation name must have 1 to %d characters", maxNameLen)
		}
		if err := checkLine("name", name, maxNameLen); err != nil {
			return err
		}
		f.Name = &name
	}
	if f.Slug != nil {
		if len(*f.Slug) > maxSlugLen || !slugPattern.MatchString(*f.Slug) {
			return refuse(KindInvalid, "slug must be 1 to %d lower-case letters, digits, - and _, starting with a letter or digit", maxSlugLen)
		}
	}
	if f.Description != nil {
		if len(*f.Description) > maxDescLen {
			return refuse(KindInvalid, "description is longer than %d bytes", maxDescLen)
		}
		if err := checkText("description", *f.Description); err != nil {
			return err
		}
	}
	if f.Script != nil {
		if len(*f.Script) > MaxScriptBytes {
			return refuse(KindInvalid, "script is longer than %d bytes", MaxScriptBytes)
		}
		if err := checkText("script", *f.Script); err != nil {
			return err
		}
		if ps, _ := ValidateRotation(*f.Script, ""); len(ps) > 0 {
			return &Error{Kind: KindInvalid, Message: "script: " + ps.Error(), Problems: ps}
		}
	}
	return nil
}

// ValidateRotation checks a script with the engine for a spec (any
// spelling engine.LookupSpec takes) and returns its problems, each with a
// JSON path, and the spec it was checked for. With no spec it is checked
// for every spec the engine simulates: no problems when it runs for one of
// them, else the problems for the spec it fits best.
func ValidateRotation(script, spec string) (rotation.Problems, string) {
	if spec != "" {
		sp, err := engine.LookupSpec(spec)
		if err != nil {
			return rotation.Problems{{Msg: err.Error()}}, spec
		}
		ps, _ := engine.ValidateRotation([]byte(script), sp.Name)
		return ps, sp.Name
	}
	var best rotation.Problems
	var bestSpec string
	for _, sp := range engine.Specs() {
		ps, _ := engine.ValidateRotation([]byte(script), sp.Name)
		if len(ps) == 0 {
			return nil, sp.Name
		}
		if best == nil || len(ps) < len(best) {
			best, bestSpec = ps, sp.Name
		}
	}
	return best, bestSpec
}

// CreateRotation stores a rotation of userID and returns its id. Name
// and script are required; the script must run for a spec the engine
// simulates.
func (s *Service) CreateRotation(ctx context.Context, userID string, f RotationFields) (string, error) {
	if f.Name == nil || f.Script == nil {
		return "", refuse(KindInvalid, "a rotation needs a name and a script")
	}
	if err := f.check(); err != nil {
		return "", err
	}
	if _, err := asUser(userID); err != nil {
		return "", err
	}
	r := store.Rotation{ID: uuid.NewString(), UserID: userID, Name: *f.Name, Script: *f.Script}
	if f.Slug != nil {
		r.Slug = *f.Slug
	} else {
		r.Slug = slugOf(r.Name)
	}
	if f.Description != nil {
		r.Description = *f.Description
	}
	if f.IsPublic != nil {
		r.IsPublic = *f.IsPublic
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	r.CreatedAt, r.UpdatedAt = now, now
	if err := s.store.CreateRotation(ctx, r); err != nil {
		return "", fmt.Errorf("create rotation: %w", err)
	}
	return r.ID, nil
}

// UpdateRotation changes a rotation of userID.
func (s *Service) UpdateRotation(ctx context.Context, userID, id string, f RotationFields) error {
	if err := f.check(); err != nil {
		return err
	}
	err := s.store.UpdateRotation(ctx, store.RotationChange{ID: id, UserID: userID, Slug: f.Slug, Name: f.Name, Script: f.Script,
		Description: f.Description, IsPublic: f.IsPublic, Now: s.clock.Now().UTC().Truncate(time.Microsecond)})
	if errors.Is(err, store.ErrNotFound) {
		return refuse(KindNotFound, "Rotation not found")
	}
	if err != nil {
		return fmt.Errorf("update rotation: %w", err)
	}
	return nil
}

// DeleteRotation removes a rotation of userID. Jobs that name it fail on
// their nodes from then on.
func (s *Service) DeleteRotation(ctx context.Context, userID, id string) error {
	err := s.store.DeleteRotation(ctx, id, userID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(KindNotFound, "Rotation not found")
	}
	if err != nil {
		return fmt.Errorf("delete rotation: %w", err)
	}
	return nil
}

// slugOf makes a slug of a name: lower case, runs of anything but letters
// and digits as one "-".
func slugOf(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
		if b.Len() >= maxSlugLen-1 {
			break
		}
	}
	if b.Len() == 0 {
		return "rotation"
	}
	return b.String()
}
