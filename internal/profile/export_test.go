package profile

// PendingQuotaReads is how many reads wait for the next statement of q.
func PendingQuotaReads(q *SharedQuotas) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}
