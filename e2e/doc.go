// Package e2e holds the end-to-end and fault tests of the whole system:
// they build the real binaries (sentinel, node-headless, engine), run a
// sentinel on PostgreSQL or SQLite and node processes with their own
// config directories on loopback, submit jobs and check that the
// distributed result equals a local engine run, also when nodes, the
// sentinel, the database or the network fail along the way.
package e2e
