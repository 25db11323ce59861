// Package gitops turns what a GitOps repository holds into the manifests a cluster would
// receive: a kustomization is built with kustomize's Go API (krusty) as `kustomize build`
// builds it, a Helm chart is rendered with Helm's engine as `helm template` renders it,
// plain manifests are read as they are, and YAML that is not a Kubernetes object (values
// files, CI pipelines, alert rules) is skipped with one warning.
//
// A tree is split into roots, each one environment that Argo CD or Flux would deploy on
// its own: every kustomization that no other kustomization of the tree builds on (the
// overlays; a base they share is not scanned on its own), every Helm chart (not the
// subcharts under its charts/), and the plain manifests outside both, together. Several
// overlays of one base are several environments, not one cluster, so a scan judges each
// root as its own platform (Environments).
package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	gitignore "github.com/monochromegane/go-gitignore"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
)

// Kind is what a root is.
type Kind string

const (
	// Kustomize is a directory holding a kustomization (kustomization.yaml,
	// kustomization.yml or Kustomization).
	Kustomize Kind = "kustomize"
	// Helm is a chart directory (Chart.yaml).
	Helm Kind = "helm"
	// Manifests is the plain manifest files of a tree outside every other root.
	Manifests Kind = "manifests"
)

// IgnoreFile, in a directory given to a scan, lists paths to leave out, in .gitignore
// syntax, relative to that directory.
const IgnoreFile = ".enforcement-auditor-ignore"

// Root is one environment of a tree.
type Root struct {
	Kind Kind
	// Dir is the kustomization's or chart's directory; empty for Manifests.
	Dir string
	// Inputs are the plain manifests of the Manifests root, in read order.
	Inputs []Input
}

// Input is one plain manifest input: a file, or "-" for standard input.
type Input struct {
	Path string
	// Walked: found walking a directory rather than named. Its documents that are not
	// Kubernetes objects (a values file, a CI pipeline, alert rules) are skipped, not
	// errors.
	Walked bool
}

// String names the root in messages: "deploy/overlays/prod (kustomize)".
func (r Root) String() string {
	if r.Kind == Manifests {
		return "the plain manifests"
	}
	return fmt.Sprintf("%s (%s)", r.Dir, r.Kind)
}

// Plan is what the inputs of a scan hold.
type Plan struct {
	// Roots: the kustomizations no other kustomization of the inputs builds on and the
	// charts, sorted by directory, then the plain manifests (when there are any) last.
	Roots []Root
	// Ignored are the paths the ignore file or --skip left out.
	Ignored []string
}

// Options direct the walk.
type Options struct {
	// Skip lists patterns to leave out, in .gitignore syntax relative to each directory
	// walked (the scan's --skip), besides the directory's IgnoreFile.
	Skip []string
	// MaxFile bounds one kustomization or ignore file read while planning (0: 1 MiB).
	MaxFile int64
	// Warn receives what is skipped (non-regular files found in directories).
	Warn func(string)
}

const defaultMaxFile = 1 << 20

// manifestExt are the endings of the files a directory walk reads.
var manifestExt = []string{".yaml", ".yml", ".json"}

// PlanPaths splits a scan's inputs (files, directories, "-" for standard input) into
// roots. Files named and plain files found in directories form one Manifests root, in
// the order a scan always read them (the paths as given, a directory's files sorted).
// Directories are walked for kustomizations and charts; hidden directories (.git,
// .github) are not walked; non-regular files are skipped with a warning.
func PlanPaths(paths []string, opts Options) (Plan, error) {
	if opts.MaxFile == 0 {
		opts.MaxFile = defaultMaxFile
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	var plan Plan
	plain := Root{Kind: Manifests}
	var errs []error
	for _, p := range paths {
		if p == "-" {
			plain.Inputs = append(plain.Inputs, Input{Path: p})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.IsDir() {
			plain.Inputs = append(plain.Inputs, Input{Path: p})
			continue
		}
		roots, files, ignored, err := planDir(p, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		plan.Roots = append(plan.Roots, roots...)
		plan.Ignored = append(plan.Ignored, ignored...)
		for _, f := range files {
			plain.Inputs = append(plain.Inputs, Input{Path: f, Walked: true})
		}
		if len(roots) == 0 && len(files) == 0 {
			errs = append(errs, fmt.Errorf("%s: directory holds no .yaml, .yml or .json file, kustomization or Helm chart", p))
		}
	}
	sort.SliceStable(plan.Roots, func(i, j int) bool { return plan.Roots[i].Dir < plan.Roots[j].Dir })
	if len(plain.Inputs) > 0 {
		plan.Roots = append(plan.Roots, plain)
	}
	return plan, errors.Join(errs...)
}

// planDir walks one directory: its roots, and its plain manifest files outside them,
// sorted.
func planDir(dir string, opts Options) (roots []Root, files, ignored []string, err error) {
	dir = filepath.Clean(dir)
	// --skip applies from dir; each directory's ignore file to its own subtree, as
	// nested .gitignore files do.
	ignores := []ignoreScope{{dir: dir, m: gitignore.NewGitIgnoreFromReader(dir, strings.NewReader(strings.Join(opts.Skip, "\n")))}}
	var kusts, charts, candidates []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && ignoredBy(ignores, path, d.IsDir()) {
			ignored = append(ignored, path)
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if m, err := ignoreFile(path, opts.MaxFile); err != nil {
				return err
			} else if m != nil {
				ignores = append(ignores, ignoreScope{dir: path, m: m})
			}
			if isFile(filepath.Join(path, "Chart.yaml")) {
				charts = append(charts, path)
				return filepath.SkipDir // templates, values and subcharts belong to the chart
			}
			if kustomizationFile(path) != "" {
				kusts = append(kusts, path)
			}
			return nil
		}
		if !slices.Contains(manifestExt, strings.ToLower(filepath.Ext(path))) {
			return nil
		}
		st, err := os.Stat(path) // a FIFO named *.yaml would hang the scan
		if err == nil {
			err = fileinput.Regular(st.Mode())
		}
		if err != nil {
			opts.Warn(fmt.Sprintf("%s: skipped: %v", path, err))
			return nil
		}
		candidates = append(candidates, path)
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}

	// What each kustomization builds on: local directories named in resources,
	// components or bases are not roots of their own; the files it names, and the
	// files beside it, are its own, not plain manifests.
	built := map[string]bool{}
	claimed := map[string]bool{}
	for _, k := range kusts {
		refs, err := kustomizationRefs(k, opts.MaxFile)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, r := range refs {
			if isDir(r) {
				built[r] = true
			} else {
				claimed[r] = true
			}
		}
	}
	for _, k := range kusts {
		for _, f := range candidates {
			if filepath.Dir(f) == k {
				claimed[f] = true
			}
		}
		if built[k] {
			continue
		}
		component, err := isComponent(k, opts.MaxFile)
		if err != nil {
			return nil, nil, nil, err
		}
		if !component { // a Component cannot be built on its own
			roots = append(roots, Root{Kind: Kustomize, Dir: k})
		}
	}
	for _, c := range charts {
		roots = append(roots, Root{Kind: Helm, Dir: c})
	}
	for _, f := range candidates {
		if !claimed[f] {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return roots, files, ignored, nil
}

// ignoreScope is an ignore file's patterns, which apply below its directory.
type ignoreScope struct {
	dir string
	m   gitignore.IgnoreMatcher
}

func ignoredBy(scopes []ignoreScope, path string, isDir bool) bool {
	for _, sc := range scopes {
		under := sc.dir == "." || strings.HasPrefix(path, sc.dir+string(filepath.Separator))
		if under && sc.m.Match(path, isDir) {
			return true
		}
	}
	return false
}

// ignoreFile reads dir's ignore file; nil when there is none.
func ignoreFile(dir string, max int64) (gitignore.IgnoreMatcher, error) {
	p := filepath.Join(dir, IgnoreFile)
	if _, err := os.Lstat(p); err != nil {
		return nil, nil
	}
	b, err := fileinput.ReadFile(p, max)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return gitignore.NewGitIgnoreFromReader(dir, strings.NewReader(string(b))), nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// kustomizationFile returns the kustomization file of dir, or "".
func kustomizationFile(dir string) string {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if p := filepath.Join(dir, n); isFile(p) {
			return p
		}
	}
	return ""
}

// kustomization is the part of a kustomization that names other files and directories.
type kustomization struct {
	Kind                  string   `json:"kind"`
	Resources             []string `json:"resources"`
	Components            []string `json:"components"`
	Bases                 []string `json:"bases"`
	PatchesStrategicMerge []string `json:"patchesStrategicMerge"`
	Patches               []struct {
		Path string `json:"path"`
	} `json:"patches"`
	Crds         []string `json:"crds"`
	Replacements []struct {
		Path string `json:"path"`
	} `json:"replacements"`
	Configurations []string `json:"configurations"`
}

func readKustomization(dir string, max int64) (kustomization, string, error) {
	p := kustomizationFile(dir)
	b, err := fileinput.ReadFile(p, max)
	if err != nil {
		return kustomization{}, p, fmt.Errorf("%s: %w", p, err)
	}
	var k kustomization
	if err := yaml.Unmarshal(b, &k); err != nil {
		return kustomization{}, p, fmt.Errorf("%s: %w", p, err)
	}
	return k, p, nil
}

func isComponent(dir string, max int64) (bool, error) {
	k, _, err := readKustomization(dir, max)
	return k.Kind == "Component", err
}

// kustomizationRefs returns the local paths a kustomization names, cleaned, relative to
// the working directory as dir is. Remote references are refused: a scan does not fetch.
func kustomizationRefs(dir string, max int64) ([]string, error) {
	k, p, err := readKustomization(dir, max)
	if err != nil {
		return nil, err
	}
	names := slices.Concat(k.Resources, k.Components, k.Bases, k.PatchesStrategicMerge, k.Crds, k.Configurations)
	for _, x := range k.Patches {
		names = append(names, x.Path)
	}
	for _, x := range k.Replacements {
		names = append(names, x.Path)
	}
	var out []string
	for _, n := range names {
		if n == "" {
			continue
		}
		if remote(n) {
			return nil, fmt.Errorf("%s: %q is a remote resource: a scan does not fetch; vendor it into the repository, or scan the output of `kustomize build`", p, n)
		}
		out = append(out, filepath.Clean(filepath.Join(dir, n)))
	}
	return out, nil
}

// remote reports whether a kustomization entry names something kustomize would fetch
// (a URL, a git repository, a github.com/... shorthand).
func remote(ref string) bool {
	return strings.Contains(ref, "://") || strings.HasPrefix(ref, "git@") ||
		strings.HasPrefix(ref, "github.com/") || strings.HasPrefix(ref, "gitlab.com/") ||
		strings.Contains(ref, "?ref=") || strings.Contains(ref, ".git//")
}
