// Command scanset writes and reads the manifest sets of `make bench-scan`
// (hack/bench-scan.sh):
//
//	scanset gen -dir DIR -objects N [-per-file 100]   # the synthetic cluster as N objects of YAML
//	scanset decode DIR...                             # the floor: every document parsed by the YAML library alone
//	scanset read [-cpuprofile F] [-memprofile F] DIR...  # the scan's reading path (manifests.ReadWith, Snapshot), profiled
//
// The floor decodes each document with sigs.k8s.io/yaml's parser (go.yaml.in/yaml/v2,
// the library `scan` reads YAML with) into generic values and keeps nothing: what any
// scan of these files must at least pay.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"

	yamlv2 "go.yaml.in/yaml/v2"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: scanset gen|decode|read ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "decode":
		err = decode(os.Args[2:])
	case "read":
		err = read(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanset:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	dir := fs.String("dir", "", "directory to write")
	objects := fs.Int("objects", 1000, "objects in the set")
	perFile := fs.Int("per-file", 100, "documents per file")
	_ = fs.Parse(args)
	if *dir == "" {
		return errors.New("gen: -dir is required")
	}
	// A tenant namespace of 20 pods is about 27 objects; generate enough and cut.
	c, err := synth.Generate(synth.Options{Pods: *objects*20/25 + 100})
	if err != nil {
		return err
	}
	return c.WriteManifestSet(*dir, *objects, *perFile)
}

func files(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.yaml"))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	return out, nil
}

func decode(args []string) error {
	fl, err := files(args)
	if err != nil {
		return err
	}
	docs := 0
	for _, f := range fl {
		in, err := os.Open(f)
		if err != nil {
			return err
		}
		dec := yamlv2.NewDecoder(in)
		for {
			var v any
			if err := dec.Decode(&v); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				in.Close()
				return fmt.Errorf("%s: %w", f, err)
			}
			if v != nil {
				docs++
			}
		}
		in.Close()
	}
	fmt.Fprintf(os.Stderr, "%d documents\n", docs)
	return nil
}

func read(args []string) error {
	fs := flag.NewFlagSet("read", flag.ExitOnError)
	cpu := fs.String("cpuprofile", "", "write a CPU profile")
	mem := fs.String("memprofile", "", "write a heap profile (allocations) at the end")
	_ = fs.Parse(args)
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// As scan reads: each object projected as the daemon's caches hold it.
	cfg := auditor.DefaultConfig()
	project := auditor.NewProjection(cfg, auditor.PodsRead(rules.All(cfg)))
	objs, err := manifests.ReadWith(fs.Args(), nil, manifests.Options{MaxBytes: 1 << 40, MaxObjects: 1 << 30, Projection: project})
	if err != nil {
		return err
	}
	s, err := manifests.Snapshot(objs)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d objects, %d pods\n", len(objs), len(s.Pods))
	if *mem != "" {
		f, err := os.Create(*mem)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	runtime.KeepAlive(s) // the profile shows what the snapshot holds
	runtime.KeepAlive(objs)
	return nil
}
