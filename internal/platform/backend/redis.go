package backend

import (
	"errors"

	"github.com/redis/go-redis/v9"
)

// ClassifyRedis is Classify for Redis errors: besides connection failures,
// the replies of an unavailable Redis (a Redis Cluster that does not serve
// a slot, a failover in progress, a node still loading) satisfy
// errors.Is(err, ErrUnavailable), so that they are answered 503, not 500.
// It is here, not in the kv adapter, because every Redis user classifies
// the same way, the domain's event logs (events.Redis) included.
func ClassifyRedis(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	// Replies that mean "not now" rather than "not so": a cluster missing a
	// slot or failing over, a node loading its data or cut off from its
	// master, a replica that was a master.
	for _, p := range [...]string{"CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN", "READONLY", "NOREPLICAS"} {
		if redis.HasErrorPrefix(err, p) {
			return Unavailable(err)
		}
	}
	return Classify(err)
}
