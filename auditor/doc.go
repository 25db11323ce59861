// Package auditor holds the engine's vocabulary: the read-only Snapshot that sources fill,
// the Rule contract, Findings, and the configuration. Data flows one way:
//
//	sources -> Snapshot -> rules -> findings store -> exporters
//
// Rules never know whether a Snapshot came from informers or from manifest files.
package auditor
