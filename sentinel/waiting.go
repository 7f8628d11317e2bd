package sentinel

import (
	"context"
	"fmt"

	"wowlab/protocol"
	"wowlab/sentinel/store"
)

// JobProgress is a job's state as a waiting user sees it: how far it is
// and, while no online node may take its chunks, why.
type JobProgress struct {
	ID                  string `json:"id"`
	Status              string `json:"status"`
	TotalIterations     int    `json:"totalIterations"`
	CompletedIterations int    `json:"completedIterations"`
	Error               string `json:"error,omitempty"`
	// EligibleNodes is how many online nodes may run the job's chunks.
	EligibleNodes int `json:"eligibleNodes"`
	// Waiting says why no node takes the job, while it has not ended and
	// EligibleNodes is 0; empty otherwise.
	Waiting string `json:"waiting,omitempty"`
}

// Progress returns the progress of a job of userID, with the reason no
// node takes it when none may.
func (s *Service) Progress(ctx context.Context, userID, jobID string) (JobProgress, error) {
	j, err := s.Job(ctx, userID, jobID)
	if err != nil {
		return JobProgress{}, err
	}
	p := JobProgress{ID: j.ID, Status: j.Status, TotalIterations: j.TotalIterations, CompletedIterations: j.CompletedIterations, Error: j.Error}
	if j.Status != protocol.StatusPending && j.Status != protocol.StatusRunning {
		return p, nil
	}
	nodes, err := s.store.OnlineNodes(ctx)
	if err != nil {
		return JobProgress{}, fmt.Errorf("read online nodes: %w", err)
	}
	for _, n := range nodes {
		if Eligible(j.AccessType, j.UserID, n) {
			p.EligibleNodes++
		}
	}
	if p.EligibleNodes == 0 {
		p.Waiting = waitingReason(j, nodes)
	}
	return p, nil
}

// waitingReason says why no online node may take a job.
func waitingReason(j store.Job, online []store.NodeLoad) string {
	switch j.AccessType {
	case AccessPublic:
		return "no node is online: the job starts when one connects"
	case AccessUser:
		return fmt.Sprintf("none of your nodes is online and none of the %d online nodes is granted to you: start one of your nodes, or ask a node's owner to grant it to you ('sentinel nodes grant NODE_ID --user %s')", len(online), j.UserID)
	}
	return "none of your nodes is online, and a private job runs only on your own nodes: start one, or claim one at /claim"
}
