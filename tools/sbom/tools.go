//go:build tools

// Package tools pins cyclonedx-gomod, built by hack/release.sh.
package tools

import (
	_ "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod"
)
