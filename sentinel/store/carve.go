package store

import (
	"fmt"

	"github.com/google/uuid"
)

// The parts of carving jobs into chunks that every implementation shares:
// what a new job leaves unassigned, and how a plan is checked and sorted
// before it is applied.

// Carve is the unassigned rest of one job, [Next, End), while a plan is
// applied; Moved is set once a chunk was carved from it.
type Carve struct {
	Next, End  int
	ConfigHash string
	Moved      bool
}

// CarvedChunk is a chunk carved from a job's rest: its assignment (ChunkID
// the new row's id) and its place in the job's range.
type CarvedChunk struct {
	Assignment
	SeedOffset int
	ConfigHash string
}

// UnassignedStart returns where the unassigned rest of a new job starts:
// after its first chunks, which must cover [0, start) in seed order.
func UnassignedStart(nj NewJob) (int, error) {
	next := 0
	for _, c := range nj.Chunks {
		if c.Iterations < 1 || c.SeedOffset != next {
			return 0, fmt.Errorf("create job: a chunk of %d iterations at seed offset %d does not continue the job's range at %d",
				c.Iterations, c.SeedOffset, next)
		}
		next += c.Iterations
	}
	if next > nj.Job.TotalIterations {
		return 0, fmt.Errorf("create job: its chunks hold %d iterations, the job %d", next, nj.Job.TotalIterations)
	}
	return next, nil
}

// SplitPlan checks a plan against the work and nodes it was made for and
// sorts it: assignments of pending rows (each row once, Iterations set to
// what it gives: all of the row unless fewer were asked for), and chunks
// carved from the rests of jobs in the order planned (rests advanced).
// Assignments to nodes that were not offered, of rows that were not
// offered and of rests with nothing left are dropped.
func SplitPlan(work []PendingChunk, nodes []NodeLoad, want []Assignment, rests map[string]*Carve) (rows []Assignment, carved []CarvedChunk) {
	held := make(map[string]int, len(work))
	for _, w := range work {
		if w.ID != "" {
			held[w.ID] = w.Iterations
		}
	}
	offered := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		offered[n.ID] = true
	}
	given := map[string]bool{}
	for _, a := range want {
		if !offered[a.NodeID] {
			continue
		}
		if a.ChunkID != "" {
			n, ok := held[a.ChunkID]
			if !ok || given[a.ChunkID] {
				continue
			}
			given[a.ChunkID] = true
			if a.Iterations <= 0 || a.Iterations > n {
				a.Iterations = n
			}
			rows = append(rows, a)
			continue
		}
		r := rests[a.JobID]
		if r == nil || r.Next >= r.End || a.Iterations < 1 {
			continue
		}
		n := min(a.Iterations, r.End-r.Next)
		carved = append(carved, CarvedChunk{
			Assignment: Assignment{ChunkID: uuid.NewString(), JobID: a.JobID, NodeID: a.NodeID, Iterations: n},
			SeedOffset: r.Next, ConfigHash: r.ConfigHash,
		})
		r.Next += n
		r.Moved = true
	}
	return rows, carved
}
