package kv

// QueuedMGets is how many MGETs wait for the round trip in flight.
func QueuedMGets(r *Redis) int {
	r.mgets.mu.Lock()
	defer r.mgets.mu.Unlock()
	return len(r.mgets.queue)
}
