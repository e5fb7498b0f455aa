//go:build race

package agent

// raceDetector says that the race detector slows this test binary down, so
// that the long tests run fewer jobs.
const raceDetector = true
