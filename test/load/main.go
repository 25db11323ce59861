// Command load is the live load harness: it starts a real kube-apiserver and etcd
// (envtest, KUBEBUILDER_ASSETS from hack/test-binaries.sh), loads a synthetic cluster
// (test/bench/synth) through the API, then measures the auditor against it:
//
//   - start to ready: the auditor binary (`enforcement-auditor run`) from process start
//     to /readyz 200;
//   - event to metric: a violating pod is created, then /metrics polled until its
//     enforcement_auditor_finding series shows (and deleted, until it is gone);
//   - memory: the auditor's RSS and Go heap with every object in its caches, and, in the
//     same run, a bare client-go informer process holding the same objects untransformed
//     (the floor).
//
// With -bindings N it then loads N RBAC bindings (synth.GenerateRBAC: tenant
// RoleBindings, ClusterRoleBindings, their roles) and measures the daemon again, in the
// same run: what the tamper rules' kinds and evaluation add; then deletes them and
// measures the daemon once more without them (the two runs without bracket the one with).
//
// With -pipeline it also measures, as a second auditor process, the daemon's wiring with
// incremental evaluation and stub pods (what the app package does once it passes
// engine.Options.Incremental and live.Options.KeepPod).
//
// Run it through hack/bench-live.sh. It prints a Markdown table and, with -json, writes
// the figures.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

type figures struct {
	Pods            int     `json:"pods"`
	Bindings        int     `json:"rbacBindings,omitempty"`
	BindingsSeconds float64 `json:"rbacLoadSeconds,omitempty"`
	LoadSeconds     float64 `json:"loadSeconds"`
	Auditors        []run   `json:"auditors"`
	BareRSSMiB      float64 `json:"bareInformerRSSMiB"`
	BareHeapMiB     float64 `json:"bareInformerHeapMiB"`
	BareObjects     int     `json:"bareInformerObjects"`
	SamplesPerRun   int     `json:"samples"`
	DebounceMs      int64   `json:"debounceMs"`
	GoMaxProcs      int     `json:"gomaxprocs"`
	LoadAverageNote string  `json:"loadAverage"`
}

type run struct {
	Name           string    `json:"name"`
	Bindings       int       `json:"rbacBindings"`
	TamperFindings int       `json:"tamperFindings"`
	StartToReadyMs float64   `json:"startToReadyMs"`
	OpenP50Ms      float64   `json:"eventToMetricP50Ms"`
	OpenP99Ms      float64   `json:"eventToMetricP99Ms"`
	OpenSamplesMs  []float64 `json:"eventToMetricSamplesMs"`
	ResolveP50Ms   float64   `json:"resolveToMetricP50Ms"`
	ResolveP99Ms   float64   `json:"resolveToMetricP99Ms"`
	RSSMiB         float64   `json:"rssMiB"`
	RSSAnonMiB     float64   `json:"rssAnonMiB"`
	RSSFileMiB     float64   `json:"rssFileMiB"`
	LiveHeapMiB    float64   `json:"liveHeapAfterLastGCMiB"`
	HeapInuseMiB   float64   `json:"heapInuseMiB"`
	HeapAllocMiB   float64   `json:"heapAllocMiB"`
}

func main() {
	mode := flag.String("mode", "harness", "harness | bare-informer | pipeline (the last two are child processes)")
	pods := flag.Int("pods", 10000, "tenant pods to load")
	samples := flag.Int("samples", 50, "event-to-metric samples per auditor")
	concurrency := flag.Int("concurrency", 32, "parallel API requests while loading")
	kubeconfig := flag.String("cluster", "", "child modes: kubeconfig of the cluster")
	listen := flag.String("listen", "", "pipeline mode: address for /metrics and /readyz")
	pipeline := flag.Bool("pipeline", false, "also measure the pipeline child (the daemon's wiring in this process; the daemon now has it)")
	jsonOut := flag.String("json", "", "write the figures to this file")
	debounce := flag.Duration("debounce", 200*time.Millisecond, "the auditors' --debounce (the daemon's default is 200ms)")
	baseline := flag.String("baseline", "", "also measure this enforcement-auditor binary (e.g. built from an earlier commit), in the same run")
	variants := flag.Bool("variants", true, "also measure the daemon at GOGC=100 and with KUBE_FEATURE_WatchListClient=true")
	bindings := flag.Int("bindings", 0, "after the other measurements, load this many RBAC bindings and measure the daemon again, then delete them and measure it once more")
	flag.Parse()
	var err error
	switch *mode {
	case "bare-informer":
		err = bareInformer(*kubeconfig)
	case "pipeline":
		err = runPipeline(*kubeconfig, *listen, *debounce)
	default:
		err = harness(*pods, *samples, *concurrency, *pipeline, *jsonOut, *debounce, *baseline, *variants, *bindings)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func harness(pods, samples, concurrency int, pipeline bool, jsonOut string, debounce time.Duration, baseline string, variants bool, bindings int) error {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: run hack/bench-live.sh")
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "enforcement-auditor-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	logf("building the auditor")
	binary := filepath.Join(dir, "enforcement-auditor")
	build := exec.Command("go", "build", "-o", binary, "./cmd/enforcement-auditor")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the auditor: %w", err)
	}

	logf("starting kube-apiserver and etcd")
	env := &envtest.Environment{ControlPlaneStartTimeout: 2 * time.Minute, ControlPlaneStopTimeout: time.Minute}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() { _ = env.Stop() }()
	user, err := env.ControlPlane.AddUser(envtest.User{Name: "load-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 5000, 10000
	if err := installCRDs(cfg); err != nil {
		return err
	}

	c, err := synth.Generate(synth.Options{Pods: pods})
	if err != nil {
		return err
	}
	logf("loading %d pods in %d namespaces (%d parallel requests)", len(c.Pods), len(c.Namespaces), concurrency)
	start := time.Now()
	if err := load(cfg, c, concurrency); err != nil {
		return err
	}
	f := figures{Pods: len(c.Pods), LoadSeconds: time.Since(start).Seconds(), SamplesPerRun: samples, GoMaxProcs: runtime.GOMAXPROCS(0), DebounceMs: debounce.Milliseconds()}
	logf("loaded in %.0fs", f.LoadSeconds)

	cs := kubernetes.NewForConfigOrDie(cfg)
	binRun, err := measure("daemon (enforcement-auditor run)", exec.Command(binary, "run", "--kubeconfig", kubeconfig, "--debounce", debounce.String(), "--insecure-serving"), cs, samples)
	if err != nil {
		return err
	}
	f.Auditors = append(f.Auditors, binRun)
	if baseline != "" {
		bRun, err := measure("baseline: "+filepath.Base(baseline), exec.Command(baseline, "run", "--kubeconfig", kubeconfig, "--debounce", debounce.String(), "--insecure-serving"), cs, samples)
		if err != nil {
			return err
		}
		f.Auditors = append(f.Auditors, bRun)
	}
	if variants {
		// The same binary with Go's default GC target: the daemon sets GOGC 50 when the
		// environment does not (cmd/enforcement-auditor/memory.go).
		gc := exec.Command(binary, "run", "--kubeconfig", kubeconfig, "--debounce", debounce.String(), "--insecure-serving")
		gc.Env = append(os.Environ(), "GOGC=100")
		gcRun, err := measure("daemon, GOGC=100 (Go's default)", gc, cs, samples)
		if err != nil {
			return err
		}
		f.Auditors = append(f.Auditors, gcRun)
		// The same binary with client-go's streaming initial list (off by default in
		// client-go 1.34): the informers no longer hold a whole LIST response at once.
		wl := exec.Command(binary, "run", "--kubeconfig", kubeconfig, "--debounce", debounce.String(), "--insecure-serving")
		wl.Env = append(os.Environ(), "KUBE_FEATURE_WatchListClient=true")
		wlRun, err := measure("daemon, KUBE_FEATURE_WatchListClient=true", wl, cs, samples)
		if err != nil {
			return err
		}
		f.Auditors = append(f.Auditors, wlRun)
		if pipeline {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			pc := exec.Command(self, "-mode", "pipeline", "-cluster", kubeconfig, "-debounce", debounce.String())
			pc.Env = append(os.Environ(), "KUBE_FEATURE_WatchListClient=true")
			pRun, err := measure("pipeline: incremental + stub pods + watch-list", pc, cs, samples)
			if err != nil {
				return err
			}
			f.Auditors = append(f.Auditors, pRun)
		}
	}
	if bindings > 0 {
		set := synth.GenerateRBAC(len(c.Namespaces), bindings)
		logf("loading %d RBAC bindings (%d Roles, %d ClusterRoles)", set.Bindings(), len(set.Roles), len(set.ClusterRoles))
		start := time.Now()
		if err := loadRBAC(cs, set, concurrency); err != nil {
			return err
		}
		f.Bindings, f.BindingsSeconds = set.Bindings(), time.Since(start).Seconds()
		logf("loaded in %.0fs", f.BindingsSeconds)
		name := fmt.Sprintf("daemon, %d RBAC bindings", set.Bindings())
		bRun, err := measure(name, exec.Command(binary, "run", "--kubeconfig", kubeconfig, "--debounce", debounce.String(), "--insecure-serving"), cs, samples)
		if err != nil {
			return err
		}
		bRun.Bindings = set.Bindings()
		f.Auditors = append(f.Auditors, bRun)
		// The daemon without them once more: the process measured later meets a quieter
		// API server and page cache; the two runs without bindings bracket the one with.
		logf("deleting the RBAC set")
		if err := deleteRBAC(cs, set, concurrency); err != nil {
			return err
		}
		aRun, err := measure("daemon, 0 RBAC bindings again (set deleted)", exec.Command(binary, "run", "--kubeconfig", kubeconfig, "--debounce", debounce.String(), "--insecure-serving"), cs, samples)
		if err != nil {
			return err
		}
		f.Auditors = append(f.Auditors, aRun)
	}
	logf("measuring a bare client-go informer holding the same objects")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	out, err := exec.Command(self, "-mode", "bare-informer", "-cluster", kubeconfig).Output()
	if err != nil {
		return fmt.Errorf("bare informer: %w", err)
	}
	var bare struct {
		RSS, Heap uint64
		Objects   int
	}
	if err := json.Unmarshal(out, &bare); err != nil {
		return fmt.Errorf("bare informer output %q: %w", out, err)
	}
	f.BareRSSMiB, f.BareHeapMiB, f.BareObjects = mib(bare.RSS), mib(bare.Heap), bare.Objects
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		f.LoadAverageNote = strings.TrimSpace(string(la))
	}
	report(os.Stdout, f)
	if jsonOut != "" {
		b, _ := json.MarshalIndent(f, "", "  ")
		return os.WriteFile(jsonOut, b, 0o644)
	}
	return nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// CRDs the synthetic platform uses, from the upstream modules the integration tests pin.
var crdFiles = map[string][]string{
	"sigs.k8s.io/kueue@v0.15.2":                        {"config/components/crd/bases/kueue.x-k8s.io_workloads.yaml", "config/components/crd/bases/kueue.x-k8s.io_localqueues.yaml"},
	"github.com/kyverno/kyverno@v1.15.2":               {"config/crds/kyverno/kyverno.io_clusterpolicies.yaml"},
	"github.com/cloudnative-pg/cloudnative-pg@v1.27.0": {"config/crd/bases/postgresql.cnpg.io_clusters.yaml"},
}

func installCRDs(cfg *rest.Config) error {
	var crds []*apiextensionsv1.CustomResourceDefinition
	for module, files := range crdFiles {
		out, err := exec.Command("go", "mod", "download", "-json", module).Output()
		if err != nil {
			return fmt.Errorf("go mod download %s: %w", module, err)
		}
		var info struct{ Dir string }
		if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
			return fmt.Errorf("go mod download %s: no directory", module)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(info.Dir, f))
			if err != nil {
				return err
			}
			for _, doc := range bytes.Split(b, []byte("\n---")) {
				crd := &apiextensionsv1.CustomResourceDefinition{}
				if len(bytes.TrimSpace(doc)) == 0 || yaml.Unmarshal(doc, crd) != nil || crd.Name == "" {
					continue
				}
				crd.Spec.Conversion = nil // no conversion webhook runs here
				crds = append(crds, crd)
			}
		}
	}
	_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{CRDs: crds, MaxTime: time.Minute})
	return err
}

// load creates the cluster through the API: the platform first, then the tenant
// namespaces in parallel, owners before what they own (owner references carry the UIDs
// the API server assigned).
func load(cfg *rest.Config, c *synth.Cluster, concurrency int) error {
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
	// Platform: namespaces first, then everything else.
	platform := c.PlatformObjects()
	slices.SortStableFunc(platform, func(a, b *unstructured.Unstructured) int {
		return boolInt(a.GetKind() != "Namespace") - boolInt(b.GetKind() != "Namespace")
	})
	for _, u := range platform {
		m, err := mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == "namespace" {
			if u.GetNamespace() == "" {
				u.SetNamespace("default")
			}
			ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
		}
		status, hasStatus := u.Object["status"]
		// Objects written as read from a cluster (examples/platform's Workloads) carry
		// what the API server sets; it refuses a create that sets resourceVersion.
		u.SetUID("")
		u.SetResourceVersion("")
		created, err := ri.Create(ctx, u, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			continue // kube-system, default
		}
		if err != nil {
			return fmt.Errorf("creating %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		if hasStatus && u.GetKind() == "Workload" {
			created.Object["status"] = status
			if _, err := ri.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("status of %s %s: %w", u.GetKind(), u.GetName(), err)
			}
		}
	}
	for _, n := range c.Nodes {
		n := n.DeepCopy()
		n.UID = ""
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	byNS := map[string]*tenant{}
	t := func(ns string) *tenant {
		if byNS[ns] == nil {
			byNS[ns] = &tenant{}
		}
		return byNS[ns]
	}
	for _, o := range c.NetworkPolicies {
		t(o.Namespace).netpols = append(t(o.Namespace).netpols, o)
	}
	for _, o := range c.Pods {
		t(o.Namespace).pods = append(t(o.Namespace).pods, o)
	}
	for _, o := range c.Workloads {
		t(o.GetNamespace()).workloads = append(t(o.GetNamespace()).workloads, o)
	}
	for _, o := range c.Deployments {
		t(o.Namespace).deployment = o
	}
	for _, o := range c.ReplicaSets {
		t(o.Namespace).replicaSet = o
	}
	for _, o := range c.Jobs {
		t(o.Namespace).job = o
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	var done atomic.Int64
	for _, ns := range c.Namespaces {
		g.Go(func() error {
			err := byNS[ns.Name].create(gctx, cs, dyn, ns)
			if n := done.Add(1); n%500 == 0 {
				logf("%d namespaces loaded", n)
			}
			return err
		})
	}
	return g.Wait()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// loadRBAC creates a generated RBAC set: roles first, then the bindings in parallel.
func loadRBAC(cs kubernetes.Interface, set *synth.RBAC, concurrency int) error {
	ctx := context.Background()
	for _, o := range set.ClusterRoles {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating ClusterRole %s: %w", o.Name, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, o := range set.Roles {
		g.Go(func() error {
			_, err := cs.RbacV1().Roles(o.Namespace).Create(gctx, o, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("creating Roles: %w", err)
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, o := range set.ClusterRoleBindings {
		g.Go(func() error {
			_, err := cs.RbacV1().ClusterRoleBindings().Create(gctx, o, metav1.CreateOptions{})
			return err
		})
	}
	for _, o := range set.RoleBindings {
		g.Go(func() error {
			if _, err := cs.RbacV1().RoleBindings(o.Namespace).Create(gctx, o, metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("creating RoleBinding %s/%s: %w", o.Namespace, o.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// deleteRBAC deletes what loadRBAC created.
func deleteRBAC(cs kubernetes.Interface, set *synth.RBAC, concurrency int) error {
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(concurrency)
	del := metav1.DeleteOptions{}
	for _, o := range set.RoleBindings {
		g.Go(func() error { return cs.RbacV1().RoleBindings(o.Namespace).Delete(ctx, o.Name, del) })
	}
	for _, o := range set.ClusterRoleBindings {
		g.Go(func() error { return cs.RbacV1().ClusterRoleBindings().Delete(ctx, o.Name, del) })
	}
	for _, o := range set.Roles {
		g.Go(func() error { return cs.RbacV1().Roles(o.Namespace).Delete(ctx, o.Name, del) })
	}
	for _, o := range set.ClusterRoles {
		g.Go(func() error { return cs.RbacV1().ClusterRoles().Delete(ctx, o.Name, del) })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("deleting the RBAC set: %w", err)
	}
	return nil
}

type tenant struct {
	netpols    []*networkingv1.NetworkPolicy
	pods       []*corev1.Pod
	workloads  []*unstructured.Unstructured
	deployment *appsv1.Deployment
	replicaSet *appsv1.ReplicaSet
	job        *batchv1.Job
}

// create loads one tenant namespace; owner UIDs are mapped from generated to assigned.
func (t *tenant) create(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, ns *corev1.Namespace) error {
	uids := map[types.UID]types.UID{}
	n := ns.DeepCopy()
	n.UID = ""
	if _, err := cs.CoreV1().Namespaces().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		return err
	}
	for _, np := range t.netpols {
		np := np.DeepCopy()
		np.UID = ""
		if _, err := cs.NetworkingV1().NetworkPolicies(ns.Name).Create(ctx, np, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	d := t.deployment.DeepCopy()
	d.UID = ""
	created, err := cs.AppsV1().Deployments(ns.Name).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	uids[t.deployment.UID] = created.UID
	rs := t.replicaSet.DeepCopy()
	rs.UID = ""
	rs.OwnerReferences[0].UID = created.UID
	createdRS, err := cs.AppsV1().ReplicaSets(ns.Name).Create(ctx, rs, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	uids[t.replicaSet.UID] = createdRS.UID
	j := t.job.DeepCopy()
	j.UID = ""
	createdJob, err := cs.BatchV1().Jobs(ns.Name).Create(ctx, j, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	uids[t.job.UID] = createdJob.UID
	for _, p := range t.pods {
		p := p.DeepCopy()
		orig := p.UID
		p.UID = ""
		for i := range p.OwnerReferences {
			p.OwnerReferences[i].UID = uids[p.OwnerReferences[i].UID]
		}
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].TerminationMessagePolicy = corev1.TerminationMessageReadFile
		}
		created, err := cs.CoreV1().Pods(ns.Name).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("pod %s/%s: %w", ns.Name, p.Name, err)
		}
		uids[orig] = created.UID
	}
	for _, w := range t.workloads {
		w := w.DeepCopy()
		status := w.Object["status"]
		delete(w.Object, "status")
		w.SetUID("")
		w.SetResourceVersion("")
		refs := w.GetOwnerReferences()
		for i := range refs {
			refs[i].UID = uids[refs[i].UID]
		}
		w.SetOwnerReferences(refs)
		if len(refs) > 0 {
			w.SetLabels(map[string]string{"kueue.x-k8s.io/job-uid": string(refs[0].UID)})
		}
		ri := dyn.Resource(synth.WorkloadGVR).Namespace(ns.Name)
		created, err := ri.Create(ctx, w, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("workload %s/%s: %w", ns.Name, w.GetName(), err)
		}
		created.Object["status"] = status
		if _, err := ri.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("workload status %s/%s: %w", ns.Name, w.GetName(), err)
		}
	}
	return nil
}

// measure starts an auditor process, times start to ready and event to metric, and
// reads its memory.
func measure(name string, cmd *exec.Cmd, cs kubernetes.Interface, samples int) (run, error) {
	r := run{Name: name}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	if cmd.Args[1] == "run" {
		cmd.Args = append(cmd.Args, "--listen-address", addr)
	} else {
		cmd.Args = append(cmd.Args, "-listen", addr)
	}
	// gctrace prints, at every GC, the heap marked live: the auditors' live heap without
	// forcing a GC in them.
	cmd.Env = append(append([]string(nil), cmd.Environ()...), "GODEBUG=gctrace=1")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	logf("%s: starting", name)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 10*time.Minute {
			return r, fmt.Errorf("%s not ready after 10m:\n%s", name, tail(logs.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.StartToReadyMs = float64(time.Since(start).Milliseconds())
	logf("%s: ready after %.0fms", name, r.StartToReadyMs)
	time.Sleep(2 * time.Second)

	ctx := context.Background()
	var opened, resolved []time.Duration
	for i := 0; i < samples; i++ {
		ns := synth.TenantNamespace(2 * (i % 5)) // Kueue-managed
		podName := fmt.Sprintf("latency-%d-%d", time.Now().UnixNano()%1e6, i)
		series := `name="` + podName + `"`
		t0 := time.Now()
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, violatingPod(ns, podName), metav1.CreateOptions{}); err != nil {
			return r, err
		}
		if err := waitMetric(base, series, true, 30*time.Second); err != nil {
			return r, fmt.Errorf("%s: %w\n%s", name, err, tail(logs.String()))
		}
		opened = append(opened, time.Since(t0))
		t0 = time.Now()
		if err := cs.CoreV1().Pods(ns).Delete(ctx, podName, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			return r, err
		}
		if err := waitMetric(base, series, false, 30*time.Second); err != nil {
			return r, fmt.Errorf("%s: %w", name, err)
		}
		resolved = append(resolved, time.Since(t0))
		time.Sleep(100 * time.Millisecond)
	}
	r.OpenP50Ms, r.OpenP99Ms = percentiles(opened)
	r.ResolveP50Ms, r.ResolveP99Ms = percentiles(resolved)
	for _, d := range opened {
		r.OpenSamplesMs = append(r.OpenSamplesMs, float64(d.Microseconds())/1000)
	}
	logf("%s: event to metric p50 %.0fms p99 %.0fms", name, r.OpenP50Ms, r.OpenP99Ms)
	if len(opened) > 1 {
		_, restP99 := percentiles(opened[1:])
		logf("%s: first sample %.0fms, p99 of the others %.0fms", name, r.OpenSamplesMs[0], restP99)
	}

	time.Sleep(5 * time.Second)
	if rss, err := rssOf(cmd.Process.Pid); err == nil {
		r.RSSMiB = mib(rss)
	}
	if anon, err := statusField(cmd.Process.Pid, "RssAnon:"); err == nil {
		r.RSSAnonMiB = mib(anon)
	}
	if file, err := statusField(cmd.Process.Pid, "RssFile:"); err == nil {
		r.RSSFileMiB = mib(file)
	}
	if m, err := scrape(base); err == nil {
		r.HeapInuseMiB = mib(uint64(metricValue(m, "go_memstats_heap_inuse_bytes")))
		r.HeapAllocMiB = mib(uint64(metricValue(m, "go_memstats_heap_alloc_bytes")))
		r.TamperFindings = tamperFindings(m)
	}
	r.LiveHeapMiB = lastLiveHeap(logs.String())
	return r, nil
}

// lastLiveHeap reads the last gctrace line: "gc 7 @2.1s 3%: ... 120->130->64 MB, ..."
// (heap at start -> at end -> marked live).
func lastLiveHeap(logs string) float64 {
	live := 0.0
	for _, line := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		for _, f := range strings.Split(line, ",") {
			f = strings.TrimSpace(f)
			if !strings.HasSuffix(f, " MB") || strings.Count(f, "->") != 2 {
				continue
			}
			parts := strings.Split(strings.TrimSuffix(f, " MB"), "->")
			if v, err := strconv.ParseFloat(parts[2], 64); err == nil {
				live = v * 1e6 / (1 << 20)
			}
		}
	}
	return live
}

// syncBuffer is a bytes.Buffer the child's output goroutines and the harness share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func violatingPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/notebook:1", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{synth.GPUResource: resource.MustParse("1")}}}}},
	}
}

func waitMetric(base, series string, present bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		m, err := scrape(base)
		if err == nil && strings.Contains(m, series) == present {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("series %s present=%v not seen within %s", series, !present, timeout)
}

func scrape(base string) (string, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func metricValue(text, name string) float64 {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+" ") {
			v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, name)), 64)
			return v
		}
	}
	return 0
}

// tamperFindings sums the open findings of the tamper rules (rule IDs ending in
// "-tamper") in enforcement_auditor_findings: that the RBAC set was evaluated.
func tamperFindings(text string) int {
	n := 0.0
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "enforcement_auditor_findings{") || !strings.Contains(line, `-tamper"`) {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			v, _ := strconv.ParseFloat(line[i+1:], 64)
			n += v
		}
	}
	return int(n)
}

func percentiles(ds []time.Duration) (p50, p99 float64) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(s[len(s)/2]), ms(s[min(len(s)-1, (len(s)*99)/100)])
}

func rssOf(pid int) (uint64, error) { return statusField(pid, "VmRSS:") }

// statusField reads a size from /proc/<pid>/status: VmRSS, and its parts RssAnon (the
// heap, stacks: what the process allocated) and RssFile (the binary's mapped pages).
func statusField(pid int, field string) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			kb, err := strconv.ParseUint(strings.Fields(line)[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no " + field)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

func report(w io.Writer, f figures) {
	if f.Bindings > 0 {
		fmt.Fprintf(w, "\n%d RBAC bindings loaded in %.0fs after the runs without them", f.Bindings, f.BindingsSeconds)
	}
	fmt.Fprintf(w, "\n%d pods (loaded in %.0fs), %d samples per auditor, debounce %dms, GOMAXPROCS=%d, load average %s\n\n", f.Pods, f.LoadSeconds, f.SamplesPerRun, f.DebounceMs, f.GoMaxProcs, f.LoadAverageNote)
	fmt.Fprintln(w, "| process | start to ready | event to metric p50 / p99 | resolve to metric p50 / p99 | RSS (anon + file) | live heap (last GC) | heap in use | RSS / bare | live heap / bare | tamper findings |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range f.Auditors {
		fmt.Fprintf(w, "| %s | %.0f ms | %.0f / %.0f ms | %.0f / %.0f ms | %.0f MiB (%.0f + %.0f) | %.0f MiB | %.0f MiB | %.2f | %.2f | %d |\n", r.Name, r.StartToReadyMs,
			r.OpenP50Ms, r.OpenP99Ms, r.ResolveP50Ms, r.ResolveP99Ms, r.RSSMiB, r.RSSAnonMiB, r.RSSFileMiB, r.LiveHeapMiB, r.HeapInuseMiB, r.RSSMiB/f.BareRSSMiB, r.LiveHeapMiB/f.BareHeapMiB, r.TamperFindings)
	}
	fmt.Fprintf(w, "| bare client-go informers (floor, %d objects) | | | | %.0f MiB | %.0f MiB (after runtime.GC) | | 1.00 | 1.00 | |\n", f.BareObjects, f.BareRSSMiB, f.BareHeapMiB)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", kubeconfig)
}
