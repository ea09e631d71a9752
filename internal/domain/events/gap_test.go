package events

import "testing"

// gap: events after since were dropped when the first held is beyond
// since+1, or none is held although the log numbered past since.
func TestGap(t *testing.T) {
	tests := []struct {
		since, first, latest int64
		want                 bool
	}{
		{0, 5, 9, false},  // from the oldest held
		{4, 5, 9, false},  // exactly the next one is held
		{3, 5, 9, true},   // 4 dropped
		{9, 0, 9, false},  // at the latest
		{12, 0, 9, false}, // above the latest
		{3, 0, 9, true},   // everything expired
		{0, 0, 0, false},  // nothing ever
	}
	for _, tc := range tests {
		if got := gap(tc.since, tc.first, tc.latest); got != tc.want {
			t.Errorf("gap(since %d, first %d, latest %d) = %v; want %v", tc.since, tc.first, tc.latest, got, tc.want)
		}
	}
}
