package model

import "strconv"

// UserTag is the hash tag of user id's keys, "{u:ID}". Every key that
// belongs to one user embeds it — the user caches' (adapters/cache), the
// sessions and their generation (domain/auth) — so that on a Redis Cluster
// a user's keys share one slot: a command or script may read several of
// them (Authenticate reads a session and the user's session generation in
// one MGET; a login reads the generation with the cached record), and the
// users of a page spread over the nodes. That sharing is a rule of the
// domain (what must be read together), so the tag is written here and only
// here; kv.UserTag is this.
func UserTag(id int64) string { return "{u:" + strconv.FormatInt(id, 10) + "}" }
