package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/live"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

// liveFixture is the live source with its informers synced from fake clients serving a
// synthetic cluster. One is kept at a time: at 100k pods the fakes and caches hold about
// a gigabyte.
type liveFixture struct {
	pods     int
	c        *synth.Cluster
	cs       *fake.Clientset
	src      *live.Source
	notified atomic.Int64
	cancel   context.CancelFunc
}

var current *liveFixture

func liveSource(b *testing.B, pods int) *liveFixture {
	b.Helper()
	if current != nil && current.pods == pods {
		return current
	}
	if current != nil {
		current.cancel()
		current = nil
		runtime.GC()
	}
	c := cluster(b, pods)
	cs, dyn, meta, err := c.FakeClients()
	if err != nil {
		b.Fatal(err)
	}
	f := &liveFixture{pods: pods, c: c, cs: cs}
	f.src = live.NewForClients(cs, dyn, meta, live.Options{OnChange: func() { f.notified.Add(1) }, DiscoveryInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() { _ = f.src.Run(ctx) }()
	if err := f.src.WaitForSync(ctx); err != nil {
		b.Fatal(err)
	}
	// Custom informers start with discovery; wait until they hold the Workloads.
	deadline := time.Now().Add(time.Minute)
	for {
		s, err := f.src.Snapshot(time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if s.Visible(auditor.ResourceKueueWorkloads) && s.Visible(auditor.ResourceJobs) && len(s.CustomObjects("kueue.x-k8s.io", "Workload")) >= len(c.Workloads) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("custom informers did not sync")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Informers that discovery started announce their sync from their own goroutines.
	for last := f.notified.Load(); ; {
		time.Sleep(100 * time.Millisecond)
		if cur := f.notified.Load(); cur != last {
			last = cur
			continue
		}
		break
	}
	f.src.Changes()
	current = f
	return f
}

// BenchmarkLiveSnapshot is building a full snapshot from the informer caches
// (live.Source.Snapshot: listing every cache, then Snapshot.Index).
func BenchmarkLiveSnapshot(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			f := liveSource(b, n)
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if _, err := f.src.Snapshot(time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkLivePartialSnapshot is the partial snapshot of one namespace an incremental
// evaluation reads (namespace index lookups plus every cluster-scoped object).
func BenchmarkLivePartialSnapshot(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			f := liveSource(b, n)
			nss := []string{synth.TenantNamespace(2)}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if _, err := f.src.PartialSnapshot(time.Now(), nss); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// fullOnly hides the live source's incremental side: every evaluation is full.
type fullOnly struct{ engine.Source }

// BenchmarkPodEvent is one pod event to updated findings: a GPU pod without a queue name
// is created in (or deleted from) a Kueue-managed namespace through the API, the
// informer delivers it, then the runner evaluates and applies the result to the store.
// Only EvaluateNow is timed (engine time). "incremental" re-runs the namespaced rules on
// the event's namespace; "full" is the same runner without incremental evaluation (the
// baseline, in the same run). p50 and p99 are over the b.N events.
func BenchmarkPodEvent(b *testing.B) {
	for _, n := range sizes {
		for _, mode := range []string{"incremental", "full"} {
			b.Run(fmt.Sprintf("pods=%d/%s", n, mode), func(b *testing.B) {
				f := liveSource(b, n)
				var src engine.Source = f.src
				if mode == "full" {
					src = fullOnly{f.src}
				}
				cfg := auditor.DefaultConfig()
				st := store.New()
				r := engine.NewRunner(engine.Options{Rules: rules.All(cfg), Source: src, Store: st,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), WaiverMaxDuration: cfg.Waivers.MaxDuration.Duration})
				r.EvaluateNow()
				rng := rand.New(rand.NewPCG(1, uint64(n)))
				ctx := context.Background()
				var live []*corev1.Pod
				durations := make([]time.Duration, 0, b.N)
				var cpuTotal time.Duration
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					before := f.notified.Load()
					open := len(st.Open())
					if len(live) > 0 && rng.IntN(2) == 0 {
						p := live[len(live)-1]
						live = live[:len(live)-1]
						if err := f.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
							b.Fatal(err)
						}
						open--
					} else {
						p := eventPod(rng, len(f.c.Namespaces), i)
						if _, err := f.cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
							b.Fatal(err)
						}
						live = append(live, p)
						open++
					}
					for f.notified.Load() == before {
						runtime.Gosched()
					}
					c0 := cpuNow()
					t0 := time.Now()
					b.StartTimer()
					r.EvaluateNow()
					b.StopTimer()
					durations = append(durations, time.Since(t0))
					cpuTotal += cpuNow() - c0
					if got := len(st.Open()); got != open {
						b.Fatalf("event %d: %d open findings, want %d", i, got, open)
					}
					if (mode == "incremental") != (r.Last().Namespaces != nil) {
						b.Fatalf("event %d: evaluated namespaces %v in mode %s", i, r.Last().Namespaces, mode)
					}
				}
				// Leave the cluster as found for the next benchmark.
				for _, p := range live {
					_ = f.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
				}
				slices.Sort(durations)
				b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(durations[(len(durations)*99)/100].Nanoseconds()), "p99-ns")
				b.ReportMetric(float64(cpuTotal.Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// eventPod is a running GPU pod without a queue name in a managed tenant namespace:
// one gpu-pod-missing-queue-name finding.
func eventPod(rng *rand.Rand, namespaces, i int) *corev1.Pod {
	ns := synth.TenantNamespace(2 * rng.IntN(namespaces/2))
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("event-%d", i), UID: types.UID(fmt.Sprintf("event-%d", i))},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{synth.GPUResource: resource.MustParse("1")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// BenchmarkCacheHeap measures the heap the caches hold (live heap after a GC, minus
// the heap before the informers started; the fakes' own copies are in both): the live
// source's informers (transformed, stripped) and, as the floor in the same run, one bare
// client-go pod informer holding the same pods untransformed. Run with -benchtime 1x.
func BenchmarkCacheHeap(b *testing.B) {
	if os.Getenv("BENCH_CACHE_HEAP_PROFILE") != "" {
		runtime.MemProfileRate = 4096 // fine enough to attribute the caches' small objects
	}
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			if current != nil {
				current.cancel()
				current = nil
			}
			c := cluster(b, n)
			for b.Loop() {
				cs, dyn, meta, err := c.FakeClients()
				if err != nil {
					b.Fatal(err)
				}
				base := liveHeap()
				ctx, cancel := context.WithCancel(context.Background())
				bare := cache.NewSharedIndexInformer(&cache.ListWatch{
					ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (kruntime.Object, error) {
						return cs.CoreV1().Pods("").List(ctx, o)
					},
					WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
						return cs.CoreV1().Pods("").Watch(ctx, o)
					},
				}, &corev1.Pod{}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
				go bare.Run(ctx.Done())
				cache.WaitForCacheSync(ctx.Done(), bare.HasSynced)
				bareHeap := liveHeap() - base
				runtime.KeepAlive(bare)
				cancel()

				heap := func(keep func(*corev1.Pod) bool) uint64 {
					base := liveHeap()
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					src := live.NewForClients(cs, dyn, meta, live.Options{DiscoveryInterval: time.Hour, KeepPod: keep, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
					go func() { _ = src.Run(ctx) }()
					if err := src.WaitForSync(ctx); err != nil {
						b.Fatal(err)
					}
					time.Sleep(time.Second) // custom informers
					h := liveHeap() - base
					if path := os.Getenv("BENCH_CACHE_HEAP_PROFILE"); path != "" && keep != nil {
						// What the daemon's caches hold, by allocation site (go tool pprof
						// -sample_index=inuse_space): written for the last size measured.
						writeHeapProfile(b, path)
					}
					runtime.KeepAlive(src)
					return h
				}
				srcHeap := heap(nil)
				keptHeap := heap(auditor.PodsRead(rules.All(auditor.DefaultConfig())))
				b.ReportMetric(float64(bareHeap)/(1<<20), "bare-pod-informer-MiB")
				b.ReportMetric(float64(srcHeap)/(1<<20), "source-MiB")
				b.ReportMetric(float64(srcHeap)/float64(bareHeap), "source/bare")
				b.ReportMetric(float64(keptHeap)/(1<<20), "source-relevant-pods-MiB")
				b.ReportMetric(float64(keptHeap)/float64(bareHeap), "source-relevant/bare")
			}
		})
	}
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
