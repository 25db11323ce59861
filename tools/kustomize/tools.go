//go:build tools

// Package tools pins the kustomize CLI, built by hack/tools.sh.
package tools

import (
	_ "sigs.k8s.io/kustomize/kustomize/v5"
)
