// Package bench holds side-by-side benchmarks of httpguard's middleware
// against peer libraries doing the same work on the same requests. It is a
// separate module so that the peers never enter the main module's go.mod.
//
// Run bench/run.sh to measure everything and write RESULTS.md; see that
// script for the knobs. Each file compares one httpguard package: a
// benchmark named BenchmarkX/impl=httpguard has a sibling
// BenchmarkX/impl=PEER that serves the identical request, so benchstat's
// -col /impl puts them side by side.
package bench
