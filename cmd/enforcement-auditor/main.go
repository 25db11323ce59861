// Command enforcement-auditor proves that the LLM platform's budget path, GPU quota and
// fail-closed budgets are enforced, not merely present: continuously in the cluster
// (`run`) and as a one-shot scan of the cluster or of manifests in GitOps CI (`scan`).
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	err := newRootCommand().Execute()
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "error:", ee.err)
		}
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
}

// exitError carries an exit status: 1 for findings at or above --fail-on, 2 for input
// that cannot be read.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
