// Package supabase is the client side of the Supabase-compatible surface a
// node talks to (shared/PROTOCOL.md sections 5 and 6):
//
//   - REST is a small PostgREST client: GET on a table with a column list and
//     filters (values URL-encoded), and POST /rest/v1/rpc/<name>. Its errors
//     say what went wrong in a way callers can test: *RateLimitError (429,
//     with Retry-After), *APIError (any other non-2xx, with PostgREST's code,
//     message, details and hint) and *NetworkError (errors.Is ErrNetwork).
//     Retry runs an operation again with exponential backoff, only when the
//     failure is worth retrying (network, 429, 5xx).
//   - Realtime is a Supabase Realtime (Phoenix channels) client over one
//     WebSocket, speaking either serializer (vsn 1.0.0 JSON objects or vsn
//     2.0.0 JSON arrays). Realtime.Run keeps the socket up: heartbeats,
//     reconnects with jittered exponential backoff, rejoins every channel and
//     reports each step through RealtimeOptions.OnStatus so the caller can
//     resync. Channels carry postgres_changes bindings, presence and the
//     access token.
//
// Callbacks never run on the socket's read loop: each Realtime delivers them
// one at a time, in arrival order, on its own goroutine, so a slow callback
// delays later callbacks but never heartbeats or replies.
//
// Serializer and the payload types (JoinPayload, Reply, ChangePayload,
// PresenceState, ...) are exported so that a server speaking the same
// protocol can reuse them.
package supabase
