package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

type appSecret struct {
	bun.BaseModel `bun:"table:app_secrets"`

	Name  string `bun:"name,pk"`
	Value []byte `bun:"value"`
}

// Secret returns the server secret called name, creating it from gen on
// first use. Every replica sharing the database gets the same value, so
// keyed hashes (OTP codes) verify on any of them.
func (s *Store) Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error) {
	sec := appSecret{Name: name, Value: gen()}
	if _, err := s.db.NewInsert().Model(&sec).Ignore().Exec(ctx); err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, classify(err))
	}
	var got appSecret
	if err := s.db.NewSelect().Model(&got).Where("name = ?", name).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, classify(err))
	}
	return got.Value, nil
}
