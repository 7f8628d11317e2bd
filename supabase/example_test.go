package supabase_test

import (
	"context"
	"encoding/json"
	"log"

	"wowlab/supabase"
)

// A node's use of the REST client: fetch a config by hash, retrying
// network errors, 429 and 5xx.
func ExampleREST_Select() {
	rest, err := supabase.NewREST("https://api.example.test", "anon-key", supabase.RESTOptions{})
	if err != nil {
		log.Fatal(err)
	}
	rest.SetToken("node-jwt") // after POST /nodes/token
	var rows []struct {
		Config json.RawMessage `json:"config"`
	}
	err = supabase.Retry(context.TODO(), supabase.RetryPolicy{}, func(ctx context.Context) error {
		return rest.Select(ctx, "jobs_configs", []string{"config"}, &rows, supabase.Eq("hash", "ab12"))
	})
	if err != nil {
		log.Print(err)
	}
}

// A node's realtime subscriptions: chunk assignments, presence, and a
// resync after every (re)subscription.
func ExampleRealtime() {
	rt, err := supabase.NewRealtime(supabase.RealtimeOptions{
		APIURL:      "https://api.example.test",
		APIKey:      "anon-key",
		AccessToken: "node-jwt",
		OnStatus: func(st supabase.Status) {
			if st.Kind == supabase.StatusSubscribed && st.Topic == "realtime:chunks:n1" {
				// list running chunks over REST and start the missing ones
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = rt.Subscribe("chunks:n1", supabase.ChannelConfig{
		Changes: []supabase.ChangeBinding{{
			Table:  "jobs_chunks",
			Filter: "node_id=eq.n1",
			OnChange: func(c supabase.Change) {
				var chunk struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				}
				if json.Unmarshal(c.Record, &chunk) == nil && chunk.Status == "running" {
					// an assignment
				}
			},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	presence, err := rt.Subscribe("nodes:presence", supabase.ChannelConfig{
		Presence: supabase.PresenceConfig{Key: "n1", Enabled: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = presence.Track(context.TODO(), map[string]string{"node_id": "n1"}) // sent after each join
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = rt.Run(ctx) }() // returns when ctx is cancelled
}
