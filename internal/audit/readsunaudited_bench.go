//go:build mutual_unaudited_reads_benchmark

package audit

// ReadsAudited is false only in this build, the benchmark's: see
// readsaudited.go. Never deploy a binary built with this tag.
const ReadsAudited = false
