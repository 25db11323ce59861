package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// daemonGCPercent is the daemon's GOGC once its caches synced, when the environment sets
// none. The daemon's live heap is its informer caches, and Go's default (100) lets the
// heap grow to twice that between collections: at 50 the resident set stays near 1.5x
// the caches, for GC work that an idle watcher can afford. The initial lists run at the
// default: at 50 they took twice as long at 100k pods on loaded cores (docs/benchmarks.md,
// section 8).
const daemonGCPercent = 50

// memoryLimitFraction of the container's memory limit becomes the Go runtime's soft
// limit: the GC collects harder as the heap nears it instead of the kernel OOM-killing
// the pod, and the rest is room for what the runtime does not count (stacks, the binary).
const memoryLimitFraction = 0.9

// tuneMemory applies the daemon's memory defaults unless GOGC or GOMEMLIMIT are set: a
// soft limit of 90% of the cgroup's memory limit (cgroupRoot is /sys/fs/cgroup; v2
// memory.max, else v1 memory/memory.limit_in_bytes), and it returns the GOGC to set once
// the caches synced (0: leave it).
func tuneMemory(log *slog.Logger, cgroupRoot string) (gcPercentAfterSync int) {
	if os.Getenv("GOGC") == "" {
		gcPercentAfterSync = daemonGCPercent
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return gcPercentAfterSync
	}
	limit, ok := cgroupMemoryLimit(cgroupRoot)
	if !ok {
		return gcPercentAfterSync
	}
	soft := int64(float64(limit) * memoryLimitFraction)
	debug.SetMemoryLimit(soft)
	log.Info("Go memory limit set from the container's", "container_limit_bytes", limit, "gomemlimit_bytes", soft)
	return gcPercentAfterSync
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup; ok is false when
// there is none (unlimited, or no cgroup filesystem).
func cgroupMemoryLimit(root string) (int64, bool) {
	for _, f := range []string{"memory.max", filepath.Join("memory", "memory.limit_in_bytes")} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(b))
		n, err := strconv.ParseInt(v, 10, 64)
		// v2 says "max"; v1 says a page-aligned number near 2^63 when unlimited.
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// An offline scan's heap is mostly garbage while it reads: each document is parsed into
// generic values, written as JSON and decoded again, and only the small typed object the
// snapshot keeps survives. At Go's default GOGC the collector runs every time the heap
// doubles and scans the growing snapshot each time (a quarter of the CPU of a 100k-object
// scan). A scan therefore runs at GOGC 400 under a soft memory limit: the heap may grow
// to scanMemoryFloor (or 1.5 times the live heap, once that is larger, so a
// large input never makes the collector run back to back), never above 90% of the
// container's limit. docs/benchmarks.md section 9 has the measurements.
const (
	scanGCPercent   = 400
	scanMemoryFloor = 256 << 20
	scanHeapFactor  = 1.5
)

// tuneScanMemory applies the scan's GC settings unless GOGC or GOMEMLIMIT are set, and
// returns the function that restores the previous ones.
func tuneScanMemory(cgroupRoot string) (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	ceiling := int64(-1)
	if limit, ok := cgroupMemoryLimit(cgroupRoot); ok {
		ceiling = int64(float64(limit) * memoryLimitFraction)
	}
	prevGC := debug.SetGCPercent(scanGCPercent)
	prevLimit := debug.SetMemoryLimit(scanMemoryLimit(0, ceiling))
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() { // follow the live heap, so the limit stays above it
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetMemoryLimit(scanMemoryLimit(sample[0].Value.Uint64(), ceiling))
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		debug.SetGCPercent(prevGC)
		debug.SetMemoryLimit(prevLimit)
	}
}

// scanMemoryLimit is the scan's soft memory limit for a live heap of live bytes, under
// ceiling (-1: none).
func scanMemoryLimit(live uint64, ceiling int64) int64 {
	limit := max(int64(scanMemoryFloor), int64(float64(live)*scanHeapFactor))
	if ceiling > 0 && limit > ceiling {
		limit = ceiling
	}
	return limit
}
