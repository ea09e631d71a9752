package cache

import (
	"context"
	"encoding/json"
)

// GetMany returns the values of ids found, reading every cached one in one
// round trip and loading the others with one call of load (which may leave
// out ids that do not exist); like Get, a cache that does not answer is
// bypassed.
func (c *Cache[T]) GetMany(ctx context.Context, ids []int64, load func(ctx context.Context, ids []int64) (map[int64]T, error)) (map[int64]T, error) {
	out := make(map[int64]T, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	c.watch.Check(ctx)
	keys := make([]string, 0, 2*len(ids))
	for _, id := range ids {
		vk, gk := c.keys(id)
		keys = append(keys, vk, gk)
	}
	vals, err := c.kv.MGet(ctx, keys...)
	if err != nil {
		c.misses.Add(float64(len(ids)))
		c.log.WarnContext(ctx, "cache unavailable, reading through", "cache", c.name, "err", err)
		return load(ctx, ids)
	}
	var missing []int64
	gens := make(map[int64]int64, len(ids))
	for i, id := range ids {
		gen := parseGen(vals[2*i+1])
		if b := vals[2*i]; b != nil {
			var e entry[T]
			if json.Unmarshal(b, &e) == nil && e.Gen == gen {
				out[id] = e.Value
				continue
			}
		}
		gens[id] = gen
		missing = append(missing, id)
	}
	c.hits.Add(float64(len(ids) - len(missing)))
	if len(missing) == 0 {
		return out, nil
	}
	c.misses.Add(float64(len(missing)))
	got, err := load(ctx, missing)
	if err != nil {
		return nil, err
	}
	for id, v := range got {
		out[id] = v
		if b, err := json.Marshal(entry[T]{Gen: gens[id], Value: v}); err == nil {
			vk, _ := c.keys(id)
			if err := c.kv.Set(ctx, vk, b, c.ttl); err != nil {
				c.log.WarnContext(ctx, "cache fill failed", "cache", c.name, "err", err)
			}
		}
	}
	return out, nil
}
