// Package bench holds the scale benchmarks: full evaluation of synthetic clusters at 1k,
// 10k and 100k pods, incremental evaluation of one pod event, and snapshot construction
// from informer caches. Run with -cpu 1 for the one-core figures (docs/benchmarks.md).
package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

var sizes = []int{1_000, 10_000, 100_000}

var clusters = map[int]*synth.Cluster{}

func cluster(b *testing.B, pods int) *synth.Cluster {
	b.Helper()
	if c, ok := clusters[pods]; ok {
		return c
	}
	c, err := synth.Generate(synth.Options{Pods: pods})
	if err != nil {
		b.Fatal(err)
	}
	clusters[pods] = c
	return c
}

// BenchmarkEvaluate is one full evaluation: every rule over a snapshot of the whole
// cluster, waivers, sorting, control states (engine.Evaluate).
func BenchmarkEvaluate(b *testing.B) {
	rs := rules.All(auditor.DefaultConfig())
	for _, n := range sizes {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			c := cluster(b, n)
			s, err := c.Snapshot(c.Now)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var ev *auditor.Evaluation
			cpu := startCPU()
			for b.Loop() {
				ev = engine.Evaluate(rs, s, 90*24*time.Hour)
			}
			cpu.report(b)
			b.ReportMetric(float64(len(ev.Findings)), "findings")
		})
	}
}

// BenchmarkSnapshotIndex is building the snapshot's lookups (Snapshot.Index), which every
// source does once per full evaluation.
func BenchmarkSnapshotIndex(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			c := cluster(b, n)
			s, err := c.Snapshot(c.Now)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				s.Index()
			}
			cpu.report(b)
		})
	}
}
