package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// progressLine says how far a live scan's cache sync is: the resources synced (or known
// unreadable, or not served) of those watched, and the first few still listing.
func progressLine(states map[string]auditor.Availability) string {
	var waiting []string
	for id, a := range states {
		if a.State == auditor.Pending {
			waiting = append(waiting, id)
		}
	}
	slices.Sort(waiting)
	done := len(states) - len(waiting)
	line := fmt.Sprintf("syncing caches: %d of %d resources", done, len(states))
	if len(waiting) > 0 {
		shown := waiting
		if len(shown) > 3 {
			shown = shown[:3]
		}
		line += ", listing " + strings.Join(shown, ", ")
		if n := len(waiting) - len(shown); n > 0 {
			line += fmt.Sprintf(" and %d more", n)
		}
	}
	return line
}

// showProgress writes the sync's progress to w until the returned function is called:
// on a terminal one line redrawn every 200ms and cleared at the end, otherwise a line
// every 2s (a CI log asked for it with --progress).
func showProgress(w io.Writer, tty bool, states func() map[string]auditor.Availability) (stop func()) {
	every := 2 * time.Second
	if tty {
		every = 200 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		last := ""
		for {
			select {
			case <-done:
				if tty && last != "" {
					fmt.Fprint(w, "\r\x1b[K") // leave the terminal as it was
				}
				return
			case <-t.C:
			}
			line := progressLine(states())
			switch {
			case tty:
				fmt.Fprintf(w, "\r\x1b[K%s", line)
			case line != last:
				fmt.Fprintln(w, line)
			}
			last = line
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
