package profile

// PendingQuotaReads is how many reads wait for the next statement of q.
func PendingQuotaReads(q *SharedQuotas) int { return q.c.Waiting() }
