// Command gotrue does nothing and exits 0, as true(1) does: built static
// and without DWARF as concurr is, it is the floor for starting any Go
// binary, which the scale workload execs over SSH beside the bare `true`.
package main

func main() {}
