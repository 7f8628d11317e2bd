// Package attack holds the sentinel's attack suite: tests that start a
// real `sentinel serve` (server.Start on loopback, PostgreSQL from
// internal/pgtest, and SQLite where a case depends on the store) and
// attack it the way a hostile client would, so that each class of defect
// an attack run found stays fixed:
//
//   - oversized and slow bodies (refused before reading, cut by the read
//     timeout, bounded in memory),
//   - connection floods (503 with Retry-After over the cap, /status still
//     answering) and idle connections,
//   - frame floods and oversized frames on Realtime,
//   - presence floods (unclaimed nodes, big metas, track/untrack churn),
//   - token abuse (expired, forged, another node's, a node token on a user
//     rpc, tokens in the wrong place),
//   - claim-code guessing (429 with Retry-After, claims bound to the code),
//   - result forgery and NUL bytes in what nodes and users send.
//
// It has no package code. It runs inside ./scripts/test, and alone with
//
//	go test ./sentinel/attack
//
// (-run to pick a class, -v to see each case). Every case talks only to
// 127.0.0.1, uses limits small enough to trip in moments, and waits on
// conditions with deadlines, so the suite ends within tens of seconds.
package attack
