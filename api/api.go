// Package api holds the hand-written OpenAPI 3.0.3 document of the Swiper
// HTTP API (api/openapi.yaml), embedded into the binary. The server serves it
// as JSON at /api/v1/openapi.json; tests validate responses against it.
package api

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var spec []byte

// YAML returns the OpenAPI document as written (a copy; callers may modify it).
func YAML() []byte {
	out := make([]byte, len(spec))
	copy(out, spec)
	return out
}

// JSON returns the OpenAPI document converted to JSON, as served at
// /api/v1/openapi.json (the server converts it once at start).
func JSON() ([]byte, error) {
	doc, err := Load(context.Background())
	if err != nil {
		return nil, err
	}
	b, err := doc.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("api: marshal openapi document: %w", err)
	}
	return b, nil
}

// Load parses and validates the embedded document. Each call returns a new
// *openapi3.T, so callers (e.g. response-validating tests) may keep it.
func Load(ctx context.Context) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("api: load openapi document: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("api: invalid openapi document: %w", err)
	}
	return doc, nil
}
