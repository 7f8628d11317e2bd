// Package node is the simulation node of WoWLab as a library: its identity
// (an Ed25519 key), its config file, registration and claiming, the signed
// client of the sentinel's node API, the REST queries and Realtime
// subscriptions it needs, caches, statistics, and Core, the state machine
// that ties them together and runs chunks on the engine through a worker
// pool. The binaries node-headless and node-gui are thin shells around Core.
//
// The wire contract is PROTOCOL.md of the repository's shared documents.
package node
