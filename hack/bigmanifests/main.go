// Command bigmanifests writes the manifest sets docs/benchmarks.md scans to measure peak
// memory per input byte: -pods writes files of ~10 MB of Pods (about 1.1 KB each) up to
// -mb megabytes; -list writes one `kind: List` of -items small ConfigMaps.
//
//	go run ./hack/bigmanifests -dir /tmp/set200 -mb 200
//	go run ./hack/bigmanifests -list /tmp/list19.yaml -items 200000
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

const pod = `---
apiVersion: v1
kind: Pod
metadata:
  name: pod-%[1]d
  namespace: team-%[2]d
  labels: {app: web-%[2]d, tier: backend, release: r%[1]d}
  annotations: {note: "%[3]s"}
spec:
  containers:
  - name: app
    image: registry.example.com/team/app:1.2.3
    args: ["--port", "8080", "--verbose"]
    env:
    - {name: A, value: "1"}
    - {name: B, value: "2"}
    resources:
      requests: {cpu: 100m, memory: 128Mi}
      limits: {cpu: "1", memory: 1Gi}
    ports:
    - {containerPort: 8080, name: http}
`

func main() {
	dir := flag.String("dir", "", "directory for the Pod files")
	mb := flag.Int("mb", 200, "megabytes of Pods (10 MB per file)")
	list := flag.String("list", "", "file for the kind: List")
	items := flag.Int("items", 200000, "items of the List")
	flag.Parse()
	if *dir != "" {
		if err := pods(*dir, *mb); err != nil {
			log.Fatal(err)
		}
	}
	if *list != "" {
		if err := listFile(*list, *items); err != nil {
			log.Fatal(err)
		}
	}
}

func pods(dir string, mb int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pad := strings.Repeat("x", 600)
	i := 0
	for f := 0; f < mb/10; f++ {
		fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("pods-%02d.yaml", f)))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(fh)
		for size := 0; size < 10_000_000; i++ {
			n, _ := fmt.Fprintf(w, pod, i, i%50, pad)
			size += n
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
	}
	return nil
}

func listFile(path string, items int) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(fh)
	fmt.Fprint(w, "apiVersion: v1\nkind: List\nitems:\n")
	for j := 0; j < items; j++ {
		fmt.Fprintf(w, "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c%d, namespace: n}}\n", j)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return fh.Close()
}
