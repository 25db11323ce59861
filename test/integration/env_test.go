// Package integration runs the auditor against a real kube-apiserver and etcd built from
// the Go modules pinned in tools/kube (see hack/test-binaries.sh; `make test-integration`
// sets KUBEBUILDER_ASSETS). CRDs are loaded from the upstream Go modules at test time.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// Upstream modules whose CRD manifests the tests install (versions that the module proxy serves).
const (
	kueueModule        = "sigs.k8s.io/kueue@v0.15.2" // serves v1beta1 and v1beta2
	kueueV1beta1Module = "sigs.k8s.io/kueue@v0.14.8" // serves v1beta1 only
	kyvernoModule      = "github.com/kyverno/kyverno@v1.15.2"
	cnpgModule         = "github.com/cloudnative-pg/cloudnative-pg@v1.27.0"
)

var (
	env        *envtest.Environment
	restConfig *rest.Config
	client     kubernetes.Interface
	kubeconfig string // admin kubeconfig file for the auditor binary
	binary     string // the enforcement-auditor binary under test
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run `make test-integration` (it builds kube-apiserver and etcd)")
			return 1
		}
		fmt.Fprintln(os.Stderr, "skipping integration tests: KUBEBUILDER_ASSETS is not set (use `make test-integration`)")
		return 0
	}
	env = &envtest.Environment{
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	var err error
	restConfig, err = env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting kube-apiserver and etcd:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	client = kubernetes.NewForConfigOrDie(restConfig)

	user, err := env.ControlPlane.AddUser(envtest.User{Name: "auditor-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "adding user:", err)
		return 1
	}
	kc, err := user.KubeConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "enforcement-auditor-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binary = filepath.Join(dir, "enforcement-auditor")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/enforcement-auditor")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the auditor:", err)
		return 1
	}
	return m.Run()
}

// moduleDir downloads (or finds in the module cache) an upstream module and returns its directory.
func moduleDir(t testing.TB, module string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", module).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", module, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s: %s %v", module, info.Error, err)
	}
	return info.Dir
}

// installCRDs installs CRD manifests from an upstream module and waits until they are served.
func installCRDs(t testing.TB, module string, files ...string) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	dir := moduleDir(t, module)
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("reading CRD %s from %s: %v", f, module, err)
		}
		for _, doc := range bytes.Split(b, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := yaml.Unmarshal(doc, crd); err != nil {
				t.Fatalf("decoding CRD %s: %v", f, err)
			}
			if crd.Name == "" {
				continue
			}
			// Upstream manifests point conversion at their webhook Service, which does not
			// run here; the tests only use the versions as stored.
			crd.Spec.Conversion = nil
			crds = append(crds, crd)
		}
	}
	for _, crd := range crds {
		// A copy still Terminating from an earlier test must be gone first.
		if u, err := dynamic.NewForConfigOrDie(restConfig).Resource(crdGVR).Get(context.Background(), crd.Name, metav1.GetOptions{}); err == nil && u.GetDeletionTimestamp() != nil {
			waitCRDGone(t, crd.Name)
		}
	}
	installed, err := envtest.InstallCRDs(restConfig, envtest.CRDInstallOptions{CRDs: crds, MaxTime: time.Minute})
	if err != nil {
		t.Fatalf("installing CRDs from %s: %v", module, err)
	}
	return installed
}

// uninstallCRDs removes CRDs and waits until they are gone (a CRD with instances stays
// Terminating for a while; installing it again before it is gone fails).
func uninstallCRDs(t testing.TB, crds []*apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	if err := envtest.UninstallCRDs(restConfig, envtest.CRDInstallOptions{CRDs: crds, MaxTime: time.Minute}); err != nil {
		t.Fatalf("uninstalling CRDs: %v", err)
	}
	for _, crd := range crds {
		waitCRDGone(t, crd.Name)
	}
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// waitCRDGone polls until the named CRD no longer exists.
func waitCRDGone(t testing.TB, name string) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(restConfig)
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := dyn.Resource(crdGVR).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRD %s still present after a minute (err %v)", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
