//go:build race

package media_test

// raceEnabled: the race detector changes what allocates (escape analysis,
// sync.Pool), so allocation counts are not compared under it.
const raceEnabled = true
