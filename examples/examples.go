// Package examples holds the bundled simulation configs: complete config
// documents, rotation embedded, as a node could receive them.
package examples

import "embed"

// FS holds bm_hunter.json and mm_hunter.json.
//
//go:embed *.json
var FS embed.FS
