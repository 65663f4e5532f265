//go:build race

package phone

// raceDetector is on: the comparison with the library takes a sample, as
// the race detector makes each parse many times slower.
const raceDetector = true
