package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCgroupMemoryLimit(t *testing.T) {
	write := func(t *testing.T, file, content string) string {
		root := t.TempDir()
		p := filepath.Join(root, file)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return root
	}
	cases := map[string]struct {
		file, content string
		want          int64
		ok            bool
	}{
		"v2 limit":                {file: "memory.max", content: "536870912\n", want: 512 << 20, ok: true},
		"v2 unlimited":            {file: "memory.max", content: "max\n"},
		"v1 limit":                {file: "memory/memory.limit_in_bytes", content: "268435456\n", want: 256 << 20, ok: true},
		"v1 unlimited":            {file: "memory/memory.limit_in_bytes", content: "9223372036854771712\n"},
		"no cgroup filesystem":    {file: "other", content: "1"},
		"garbage is no limit":     {file: "memory.max", content: "lots"},
		"zero is no usable limit": {file: "memory.max", content: "0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := cgroupMemoryLimit(write(t, tc.file, tc.content))
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestScanMemoryLimit(t *testing.T) {
	cases := map[string]struct {
		live    uint64
		ceiling int64
		want    int64
	}{
		"small heap: the floor":             {live: 10 << 20, ceiling: -1, want: scanMemoryFloor},
		"large heap: above it, with room":   {live: 400 << 20, ceiling: -1, want: 600 << 20},
		"container limit caps it":           {live: 400 << 20, ceiling: 460 << 20, want: 460 << 20},
		"container below the floor caps it": {live: 0, ceiling: 100 << 20, want: 100 << 20},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, scanMemoryLimit(tc.live, tc.ceiling))
		})
	}
}

// The scan's GC settings apply while it runs and are undone after; GOGC or GOMEMLIMIT in
// the environment leave them alone.
func TestTuneScanMemoryRestores(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOGC")
	os.Unsetenv("GOMEMLIMIT")
	before := debug.SetGCPercent(77)
	defer debug.SetGCPercent(before)
	restore := tuneScanMemory(t.TempDir())
	assert.Equal(t, scanGCPercent, debug.SetGCPercent(scanGCPercent))
	assert.Equal(t, int64(scanMemoryFloor), debug.SetMemoryLimit(-1))
	restore()
	assert.Equal(t, 77, debug.SetGCPercent(77))
	assert.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1))

	t.Setenv("GOGC", "100")
	tuneScanMemory(t.TempDir())()
	assert.Equal(t, 77, debug.SetGCPercent(77))
}
