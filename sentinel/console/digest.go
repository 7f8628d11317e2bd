package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"wowlab/sentinel/store"
)

// stateDigest sums up what the live parts of the pages show of a user:
// their nodes' and their recent jobs' statuses (progress comes in events,
// and a page that missed some shows it at the next). A page carries
// the digest it was rendered from and the event stream starts with the
// current one, so a change between the two (missed by both) reloads the
// page.
func (c *Console) stateDigest(ctx context.Context, userID string) (string, error) {
	nodes, err := c.svc.UserNodes(ctx, userID)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, n := range nodes {
		lines = append(lines, "node "+n.ID+" "+n.Status)
	}
	raw, err := c.store.Select(ctx, store.Query{Table: "jobs", Columns: []string{"id", "status"}, Limit: 50,
		Access: store.Access{Role: store.AccessUser, UserID: userID},
		Orders: []store.Order{{Column: "created_at", Desc: true}}})
	if err != nil {
		return "", fmt.Errorf("read jobs: %w", err)
	}
	var jobs []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(raw, &jobs); err != nil {
		return "", fmt.Errorf("read jobs: %w", err)
	}
	for _, j := range jobs {
		lines = append(lines, "job "+j.ID+" "+j.Status)
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), nil
}
