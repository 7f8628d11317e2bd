// Package protocol holds the wire contract between simulation nodes and the
// sentinel (shared/PROTOCOL.md): request signing, claim codes, the node API's
// request and response bodies, chunk results and their exact aggregation.
//
// Both sides import it, so a node and a sentinel built from this repository
// can never disagree about a header name, a JSON field or a signed byte.
package protocol
