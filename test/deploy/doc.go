// Package deploy tests the deployment artifacts without a cluster: every kustomize
// variant of deploy/ renders into valid, least-privilege Kubernetes objects; the alert
// rules pass `promtool check rules` and their unit tests; every PromQL expression of the
// alerts and dashboards parses and names only metrics and labels the auditor's collector
// really exports. The tools (kustomize, promtool, promql-names) come prebuilt from the
// directory in $TOOLS_BIN (hack/tools.sh prints it):
//
//	TOOLS_BIN=$(hack/tools.sh) go test ./test/deploy/...
//
// Without TOOLS_BIN the tool-based tests skip, except in CI (CI=true), where they fail.
package deploy
