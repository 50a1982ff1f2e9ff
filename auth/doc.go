// Package auth authenticates requests: HTTP Basic with hashed passwords,
// API keys, and JWT bearer tokens, plus token issuing and an OAuth2 token
// endpoint. A successful authentication puts an [identity.Identity] in the
// request context.
package auth
