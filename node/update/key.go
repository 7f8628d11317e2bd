package update

// releaseKey is the public half of the project's release key (minisign,
// Ed25519, key id CA3D389FE18B305F), written by
// "go run ./internal/cmd/release keygen". Every release's SHA256SUMS is
// signed with its private half; Options.Keys may add keys, never replace
// this one.
const releaseKey = "RWRfMIvhnzg9yv0QPmy4KSFYSruMCVsu/BP42ZEW06bScOb83TYu6XyM"
