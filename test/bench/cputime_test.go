package bench

import (
	"syscall"
	"testing"
	"time"
)

// cpuClock measures the process's CPU time (user + system, every thread: the GC
// included). The machine these benchmarks run on is shared, so wall time per op
// (ns/op) swings with the neighbours' load while CPU time per op stays close to what
// one dedicated core would take; both are reported.
type cpuClock struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{start: cpuNow()} }

// report adds cpu-ns/op to the benchmark's results.
func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(cpuNow()-c.start)/float64(b.N), "cpu-ns/op")
}
