//go:build race

package serving

// raceEnabled: the race detector's shadow memory inflates RSS, so RSS bounds are skipped.
const raceEnabled = true
