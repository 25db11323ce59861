//go:build tools

// Package tools pins promtool, built by hack/tools.sh.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
