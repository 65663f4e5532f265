//go:build !race

package phone

// raceDetector is off.
const raceDetector = false
