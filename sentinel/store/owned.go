package store

// What users change themselves: their nodes, their jobs' ends and their
// rotations. Every change names the user, and applies only to that user's
// rows (ErrNotFound otherwise), so a caller cannot reach another's.

import "time"

// NodeChange is an owner's change of a node; nil fields stay as they are.
type NodeChange struct {
	NodeID      string
	UserID      string
	Name        *string
	MaxParallel *int
}

// Cancel ends a pending or running job of UserID as failed with Error,
// with its unfinished chunks.
type Cancel struct {
	JobID  string
	UserID string
	Error  string
	Now    time.Time
}

// Rotation is a row of rotations. UserID is empty for a rotation without
// owner; SpecID is 0 for NULL; the database keeps Checksum.
type Rotation struct {
	ID          string
	UserID      string
	Slug        string
	Name        string
	Script      string
	Description string // NULL when empty
	IsPublic    bool
	SpecID      int
	Checksum    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RotationChange is an owner's change of a rotation; nil fields stay as
// they are. A changed script raises current_version.
type RotationChange struct {
	ID          string
	UserID      string
	Slug        *string
	Name        *string
	Script      *string
	Description *string
	IsPublic    *bool
	Now         time.Time
}
