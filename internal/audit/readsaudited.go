//go:build !mutual_unaudited_reads_benchmark

package audit

// ReadsAudited is whether Log.Read records its read. It is true in every
// build but one: the binary that make bench builds with the tag
// mutual_unaudited_reads_benchmark, to measure an audited API read beside
// the same read unaudited (issue #9). Nothing at run time can turn it off,
// and that binary says so when it serves.
const ReadsAudited = true
