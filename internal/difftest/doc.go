// Package difftest owns the differential test of the concurr command against
// GNU Parallel: a table of command lines run through both `parallel
// --will-cite` and a freshly built concurr, whose stdout and exit status must
// match byte for byte. Where GNU Parallel has a behaviour that concurr
// deliberately does not copy, the case states concurr's expected output and
// says why.
//
// The package holds tests only. They skip when `parallel` is not on PATH and
// under -short. Set CONCURR_DIFFTEST_BIN to test an already built binary
// instead of building ./cmd/concurr, and CONCURR_DIFFTEST_VERBOSE=1 to log
// both outputs of every case. Under -race, concurr is built with the race
// detector too, and a race report in its stderr fails the case.
package difftest
