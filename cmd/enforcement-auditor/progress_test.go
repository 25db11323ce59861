package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestProgressLine(t *testing.T) {
	st := func(s auditor.AvailabilityState) auditor.Availability { return auditor.Availability{State: s} }
	assert.Equal(t, "syncing caches: 2 of 6 resources, listing configmaps, nodes, pods and 1 more", progressLine(map[string]auditor.Availability{
		"pods": st(auditor.Pending), "nodes": st(auditor.Pending), "configmaps": st(auditor.Pending), "services": st(auditor.Pending),
		"namespaces": st(auditor.Synced), "clusters.postgresql.cnpg.io": st(auditor.NotServed),
	}))
	assert.Equal(t, "syncing caches: 2 of 2 resources", progressLine(map[string]auditor.Availability{"a": st(auditor.Synced), "b": st(auditor.Forbidden)}))
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestShowProgress: on a terminal the line is redrawn and cleared at the end; in a log
// a changed line is a new line.
func TestShowProgress(t *testing.T) {
	var mu sync.Mutex
	state := auditor.Pending
	states := func() map[string]auditor.Availability {
		mu.Lock()
		defer mu.Unlock()
		return map[string]auditor.Availability{"pods": {State: state}}
	}
	var tty lockedBuffer
	stop := showProgress(&tty, true, states)
	time.Sleep(500 * time.Millisecond)
	stop()
	stop() // twice is once
	out := tty.String()
	assert.True(t, strings.HasPrefix(out, "\r\x1b[Ksyncing caches: 0 of 1 resources, listing pods"), "%q", out)
	assert.True(t, strings.HasSuffix(out, "\r\x1b[K"), "the line is cleared: %q", out)

	var log lockedBuffer
	stop = showProgress(&log, false, states)
	time.Sleep(2100 * time.Millisecond)
	mu.Lock()
	state = auditor.Synced
	mu.Unlock()
	time.Sleep(2100 * time.Millisecond)
	stop()
	assert.Equal(t, "syncing caches: 0 of 1 resources, listing pods\nsyncing caches: 1 of 1 resources\n", log.String())
}

func TestScanNamespaceIsLive(t *testing.T) {
	_, errOut, code := execute(t, "", "scan", "-f", "../../examples/platform", "-n", "team-a")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--namespace scopes a live scan")
}
