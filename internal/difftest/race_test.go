//go:build race

package difftest

// raceEnabled is set when the tests run under the race detector; concurr is
// then built with it too, so that every case also checks the whole CLI,
// client and in-process agent, for data races.
const raceEnabled = true
