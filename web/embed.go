// Package web holds the built single-page web client (web/dist), embedded
// into the swiper binary. Rebuild it with `npm run build` in web/; the
// committed dist is checked against the sources by `npm run check:dist`.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built web client, rooted at dist (index.html at its top).
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub only fails for an invalid path; "dist" is valid.
		panic(err)
	}
	return sub
}
