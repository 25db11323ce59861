package main

import (
	"os"
	"path/filepath"
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
