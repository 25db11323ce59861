package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// The CloudNativePG Cluster CRD, from cnpgModule.
const sr3ClusterCRD = "config/crd/bases/postgresql.cnpg.io_clusters.yaml"

var sr3ClusterGVR = schema.GroupVersionResource{Group: "postgresql.cnpg.io", Version: "v1", Resource: "clusters"}

// sr3Rules are the SR3 rule IDs.
var sr3Rules = []string{"budget-fail-open-in-prod", "budget-fail-open-unverifiable", "budget-db-not-ha-in-prod",
	"budget-cache-not-redis-in-prod", "budget-profile-downgrade", "litellm-config-unparseable"}

var sr3CRDGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// sr3WaitCRDGone waits until no CRD of that name exists. envtest.UninstallCRDs only
// issues the delete: a CRD with instances stays Terminating while the apiserver
// removes them, and installing it again meanwhile fails.
func sr3WaitCRDGone(t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	var err error
	ok := assertEventually(time.Minute, func() bool {
		_, err = dyn.Resource(sr3CRDGVR).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	require.True(t, ok, "CRD %s still present after a minute: %v", name, err)
}

// sr3InstallCNPG installs the CloudNativePG Cluster CRD (after any Terminating copy is
// gone) and uninstalls it at the end, waiting until it is gone for the next test.
func sr3InstallCNPG(t *testing.T) dynamic.Interface {
	t.Helper()
	const name = "clusters.postgresql.cnpg.io"
	dyn := dynamic.NewForConfigOrDie(restConfig)
	if u, err := dyn.Resource(sr3CRDGVR).Get(context.Background(), name, metav1.GetOptions{}); err == nil && u.GetDeletionTimestamp() != nil {
		sr3WaitCRDGone(t, dyn, name)
	}
	crds := installCRDs(t, cnpgModule, sr3ClusterCRD)
	t.Cleanup(func() {
		uninstallCRDs(t, crds)
		sr3WaitCRDGone(t, dyn, name)
	})
	return dyn
}

// sr3WriteConfig writes an AuditorConfig whose SR3 section spells out the defaults
// (prod profile "prod" on label llm-platform/profile, key config.yaml, 3 instances).
func sr3WriteConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "auditor.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`apiVersion: enforcement-auditor.llm-platform.io/v1alpha1
kind: AuditorConfig
sr3:
  profileLabel: llm-platform/profile
  prodProfiles: [prod]
  configKey: config.yaml
  minDatabaseInstances: 3
`), 0o600))
	return p
}

// sr3Series matches one open finding's series, severity included (client_golang writes
// the labels sorted by name).
func sr3Series(rule, severity, ns, kind, name string) string {
	return fmt.Sprintf(`enforcement_auditor_finding\{[^}]*kind="%s",name="%s",namespace="%s",rule="%s",severity="%s"[^}]*\} [1-9]`,
		regexp.QuoteMeta(kind), regexp.QuoteMeta(name), regexp.QuoteMeta(ns), regexp.QuoteMeta(rule), regexp.QuoteMeta(severity))
}

// sr3AnyFinding matches any open SR3 finding in a namespace.
func sr3AnyFinding(ns string) string {
	return fmt.Sprintf(`enforcement_auditor_finding\{[^}]*namespace="%s",rule="(%s)"[^}]*\} [1-9]`,
		regexp.QuoteMeta(ns), strings.Join(sr3Rules, "|"))
}

// sr3ConfigMap is a LiteLLM config ConfigMap with the profile label.
func sr3ConfigMap(ns, name, profile, config string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"llm-platform/profile": profile}},
		Data:       map[string]string{"config.yaml": config},
	}
}

// sr3Deployment is the chart's shape: container litellm, --config
// /etc/litellm/config.yaml, the ConfigMap's config.yaml mounted with subPath and items.
func sr3Deployment(ns, name, configMap string, env ...corev1.EnvVar) *appsv1.Deployment {
	labels := map[string]string{"app.kubernetes.io/name": "litellm", "app.kubernetes.io/instance": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:         "litellm",
						Image:        "ghcr.io/berriai/litellm-database:main-stable",
						Args:         []string{"--config", "/etc/litellm/config.yaml", "--port", "4000"},
						Env:          env,
						VolumeMounts: []corev1.VolumeMount{{Name: "litellm-config", MountPath: "/etc/litellm/config.yaml", SubPath: "config.yaml"}},
					}},
					Volumes: []corev1.Volume{{Name: "litellm-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: configMap},
						Items:                []corev1.KeyToPath{{Key: "config.yaml", Path: "config.yaml"}},
					}}}},
				},
			},
		},
	}
}

func sr3Literal(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

func sr3FromSecret(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}
}

// sr3Create creates a ConfigMap, Deployment or Secret and deletes it at the end (the
// namespace is never finalized, so its objects would outlive the test).
func sr3Create(t *testing.T, obj any) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		_, err = client.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		t.Cleanup(func() {
			_ = client.CoreV1().ConfigMaps(o.Namespace).Delete(context.Background(), o.Name, metav1.DeleteOptions{})
		})
	case *appsv1.Deployment:
		_, err = client.AppsV1().Deployments(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		t.Cleanup(func() {
			_ = client.AppsV1().Deployments(o.Namespace).Delete(context.Background(), o.Name, metav1.DeleteOptions{})
		})
	case *corev1.Secret:
		_, err = client.CoreV1().Secrets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		t.Cleanup(func() {
			_ = client.CoreV1().Secrets(o.Namespace).Delete(context.Background(), o.Name, metav1.DeleteOptions{})
		})
	default:
		t.Fatalf("sr3Create: unsupported %T", obj)
	}
	require.NoError(t, err)
}

func sr3UpdateConfigMap(t *testing.T, ns, name string, mutate func(*corev1.ConfigMap)) {
	t.Helper()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := client.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(cm)
		_, err = client.CoreV1().ConfigMaps(ns).Update(context.Background(), cm, metav1.UpdateOptions{})
		return err
	}))
}

func sr3SetEnv(t *testing.T, ns, name string, env ...corev1.EnvVar) {
	t.Helper()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Env = env
		_, err = client.AppsV1().Deployments(ns).Update(context.Background(), d, metav1.UpdateOptions{})
		return err
	}))
}

// sr3CreateCluster creates a CloudNativePG Cluster with spec.instances and then sets
// status.readyInstances through the status subresource, as the operator would.
func sr3CreateCluster(t *testing.T, dyn dynamic.Interface, ns, name string, instances, ready int64) {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
		"metadata": map[string]any{"namespace": ns, "name": name},
		"spec":     map[string]any{"instances": instances, "storage": map[string]any{"size": "1Gi"}},
	}}
	_, err := dyn.Resource(sr3ClusterGVR).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{})
	require.NoError(t, err)
	sr3UpdateCluster(t, dyn, ns, name, func(u *unstructured.Unstructured) (bool, error) {
		return true, unstructured.SetNestedField(u.Object, map[string]any{"instances": instances, "readyInstances": ready}, "status")
	})
}

// sr3UpdateCluster applies mutate; status=true writes through UpdateStatus.
func sr3UpdateCluster(t *testing.T, dyn dynamic.Interface, ns, name string, mutate func(*unstructured.Unstructured) (status bool, err error)) {
	t.Helper()
	rc := dyn.Resource(sr3ClusterGVR).Namespace(ns)
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u, err := rc.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		status, err := mutate(u)
		if err != nil {
			return err
		}
		if status {
			_, err = rc.UpdateStatus(context.Background(), u, metav1.UpdateOptions{})
		} else {
			_, err = rc.Update(context.Background(), u, metav1.UpdateOptions{})
		}
		return err
	}))
}

func sr3SetReady(t *testing.T, dyn dynamic.Interface, ns, name string, ready int64) {
	t.Helper()
	sr3UpdateCluster(t, dyn, ns, name, func(u *unstructured.Unstructured) (bool, error) {
		return true, unstructured.SetNestedField(u.Object, ready, "status", "readyInstances")
	})
}

func sr3SetInstances(t *testing.T, dyn dynamic.Interface, ns, name string, instances int64) {
	t.Helper()
	sr3UpdateCluster(t, dyn, ns, name, func(u *unstructured.Unstructured) (bool, error) {
		return false, unstructured.SetNestedField(u.Object, instances, "spec", "instances")
	})
}

// sr3Finding is a finding as scan -o json and evidence documents write it.
type sr3Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Object   *struct {
		Kind      string `json:"kind"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"object"`
	Message string `json:"message"`
}

// sr3Findings decodes the findings of a scan report, an evidence document or an
// evidence attestation (the predicate of the statement in its envelope).
func sr3Findings(t *testing.T, doc []byte) []sr3Finding {
	t.Helper()
	var v struct {
		Findings  []sr3Finding `json:"findings"`
		Predicate struct {
			Findings []sr3Finding `json:"findings"`
		} `json:"predicate"`
	}
	require.NoError(t, json.Unmarshal(evidencePayload(t, doc), &v), "%s", doc)
	return append(v.Findings, v.Predicate.Findings...)
}

func sr3Pick(fs []sr3Finding, rule, ns, kind, name string) *sr3Finding {
	for i := range fs {
		f := &fs[i]
		if f.Rule == rule && f.Object != nil && f.Object.Kind == kind && f.Object.Namespace == ns && f.Object.Name == name {
			return f
		}
	}
	return nil
}

// sr3Message returns the message of an open finding from the daemon's /evidence.
func sr3Message(t *testing.T, a *auditorProcess, rule, ns, kind, name string) string {
	t.Helper()
	var f *sr3Finding
	ok := assertEventually(10*time.Second, func() bool {
		code, body := a.get("/evidence")
		if code != http.StatusOK {
			return false
		}
		f = sr3Pick(sr3Findings(t, []byte(body)), rule, ns, kind, name)
		return f != nil
	})
	require.True(t, ok, "no %s finding on %s %s/%s in /evidence", rule, kind, ns, name)
	return f.Message
}

// sr3WaitWhileAbsent polls /metrics until want matches, requiring absent to match in
// none of the scrapes, the last one included.
func sr3WaitWhileAbsent(t *testing.T, a *auditorProcess, d time.Duration, want, absent string) {
	t.Helper()
	wantRE, absentRE := regexp.MustCompile(want), regexp.MustCompile(absent)
	var last string
	ok := assertEventually(d, func() bool {
		last = a.metrics(t)
		require.NotRegexp(t, absentRE, last)
		return wantRE.MatchString(last)
	})
	if !ok {
		t.Fatalf("no metric matching %q within %s; metrics:\n%s", want, d, grepLines(last, "enforcement_auditor_finding{"))
	}
}

// sr3LifecycleConfig is a prod-shaped config: database from the environment, Redis for
// the proxy cache and the Router; allow is written verbatim.
func sr3LifecycleConfig(allow string) string {
	return `model_list:
  - model_name: llama
    litellm_params:
      model: hosted_vllm/llama
      api_base: http://vllm.serving.svc:8000/v1
general_settings:
  master_key: os.environ/PROXY_MASTER_KEY
  database_url: os.environ/DATABASE_URL
  allow_requests_on_db_unavailable: ` + allow + `
litellm_settings:
  cache: true
  cache_params:
    type: redis
    host: os.environ/REDIS_HOST
    port: os.environ/REDIS_PORT
router_settings:
  redis_host: os.environ/REDIS_HOST
  redis_port: os.environ/REDIS_PORT
`
}

// TestSR3FailClosedLifecycle: a compliant prod proxy (flag false, CNPG Cluster 3/3, Redis)
// has no SR3 finding; each violation then opens on /metrics with its severity and
// resolves when fixed: the flag `yes` (critical), the profile switched to dev (resolves,
// dev may fail open), back to prod with false (stays resolved), the Cluster at 2
// instances (high), the flag from a Secret (medium, naming the Secret and key), from a
// literal env "true" (critical) and "false" (resolves).
func TestSR3FailClosedLifecycle(t *testing.T) {
	const ns, cmName, deployName, cluster = "it-sr3-life", "litellm-config", "litellm", "litellm-pg"
	dyn := sr3InstallCNPG(t)
	createNamespace(t, ns, nil)
	a := startAuditor(t, "--config", sr3WriteConfig(t))

	baseEnv := []corev1.EnvVar{
		sr3FromSecret("PROXY_MASTER_KEY", "litellm-master-key", "key"),
		sr3FromSecret("DATABASE_URL", cluster+"-app", "uri"),
		sr3Literal("DATABASE_HOST", cluster+"-rw"),
		sr3Literal("REDIS_HOST", "redis-master."+ns+".svc"),
		sr3Literal("REDIS_PORT", "6379"),
	}
	// The Cluster starts with 1 of 3 instances ready (bootstrapping): the HA finding it
	// opens proves the daemon sees the prod proxy and links it to the Cluster, so the
	// absence of findings afterwards means something.
	sr3CreateCluster(t, dyn, ns, cluster, 3, 1)
	sr3Create(t, sr3ConfigMap(ns, cmName, "prod", sr3LifecycleConfig("false")))
	sr3Create(t, sr3Deployment(ns, deployName, cmName, baseEnv...))

	dbNotHA := sr3Series("budget-db-not-ha-in-prod", "high", ns, "Cluster", cluster)
	failOpen := sr3Series("budget-fail-open-in-prod", "critical", ns, "ConfigMap", cmName)
	unverifiable := sr3Series("budget-fail-open-unverifiable", "medium", ns, "ConfigMap", cmName)

	start := time.Now()
	a.waitMetric(t, 10*time.Second, dbNotHA)
	msg := sr3Message(t, a, "budget-db-not-ha-in-prod", ns, "Cluster", cluster)
	assert.Contains(t, msg, "status.readyInstances is 1, below 3")
	assert.Contains(t, msg, "database host litellm-pg-rw from env DATABASE_HOST")

	sr3SetReady(t, dyn, ns, cluster, 3)
	a.waitNoMetric(t, 10*time.Second, dbNotHA)
	require.NotRegexp(t, sr3AnyFinding(ns), a.metrics(t), "the compliant prod proxy has an SR3 finding")
	t.Logf("baseline (HA finding opened and resolved): %s", time.Since(start))

	// yes is a YAML 1.1 boolean for PyYAML: fail-open.
	start = time.Now()
	sr3UpdateConfigMap(t, ns, cmName, func(cm *corev1.ConfigMap) { cm.Data["config.yaml"] = sr3LifecycleConfig("yes") })
	a.waitMetric(t, 10*time.Second, failOpen)
	t.Logf("fail-open opened in %s", time.Since(start))
	msg = sr3Message(t, a, "budget-fail-open-in-prod", ns, "ConfigMap", cmName)
	assert.Contains(t, msg, "ConfigMap "+ns+"/"+cmName+" key config.yaml")
	assert.Contains(t, msg, `"yes" (line 9, column 37)`)

	// A dev profile may fail open.
	start = time.Now()
	sr3UpdateConfigMap(t, ns, cmName, func(cm *corev1.ConfigMap) { cm.Labels["llm-platform/profile"] = "dev" })
	a.waitNoMetric(t, 10*time.Second, failOpen)
	t.Logf("fail-open resolved (profile dev) in %s", time.Since(start))

	// Back to prod, fixed in the same update: the finding must not come back. The HA
	// finding opened next (spec.instances 2) is only computed for prod proxies, so the
	// scrape that shows it reflects the prod label and therefore the fixed value too.
	sr3UpdateConfigMap(t, ns, cmName, func(cm *corev1.ConfigMap) {
		cm.Labels["llm-platform/profile"] = "prod"
		cm.Data["config.yaml"] = sr3LifecycleConfig("false")
	})
	start = time.Now()
	sr3SetInstances(t, dyn, ns, cluster, 2)
	sr3WaitWhileAbsent(t, a, 10*time.Second, dbNotHA, failOpen)
	t.Logf("HA finding (instances 2) opened in %s, fail-open stayed resolved", time.Since(start))
	assert.Contains(t, sr3Message(t, a, "budget-db-not-ha-in-prod", ns, "Cluster", cluster), "spec.instances is 2, below the 3 prod requires")
	sr3SetInstances(t, dyn, ns, cluster, 3)
	a.waitNoMetric(t, 10*time.Second, dbNotHA)

	// The flag from a variable set from a Secret: the auditor does not read it.
	sr3SetEnv(t, ns, deployName, append(baseEnv[:len(baseEnv):len(baseEnv)], sr3FromSecret("ALLOW_DB_FAILOPEN", "it-sr3-life-flags", "allow"))...)
	start = time.Now()
	sr3UpdateConfigMap(t, ns, cmName, func(cm *corev1.ConfigMap) {
		cm.Data["config.yaml"] = sr3LifecycleConfig("os.environ/ALLOW_DB_FAILOPEN")
	})
	sr3WaitWhileAbsent(t, a, 10*time.Second, unverifiable, failOpen)
	t.Logf("unverifiable opened in %s", time.Since(start))
	msg = sr3Message(t, a, "budget-fail-open-unverifiable", ns, "ConfigMap", cmName)
	assert.Contains(t, msg, "os.environ/ALLOW_DB_FAILOPEN")
	assert.Contains(t, msg, "Secret "+ns+"/it-sr3-life-flags key allow")

	// The same variable as a literal "true": now verifiable, and fail-open.
	start = time.Now()
	sr3SetEnv(t, ns, deployName, append(baseEnv[:len(baseEnv):len(baseEnv)], sr3Literal("ALLOW_DB_FAILOPEN", "true"))...)
	a.waitMetric(t, 10*time.Second, failOpen)
	a.waitNoMetric(t, 10*time.Second, unverifiable)
	t.Logf("unverifiable resolved and fail-open (env true) opened in %s", time.Since(start))
	msg = sr3Message(t, a, "budget-fail-open-in-prod", ns, "ConfigMap", cmName)
	assert.Contains(t, msg, "os.environ/ALLOW_DB_FAILOPEN")
	assert.Contains(t, msg, "env ALLOW_DB_FAILOPEN of container litellm")

	start = time.Now()
	sr3SetEnv(t, ns, deployName, append(baseEnv[:len(baseEnv):len(baseEnv)], sr3Literal("ALLOW_DB_FAILOPEN", "false"))...)
	a.waitNoMetric(t, 10*time.Second, failOpen)
	t.Logf("fail-open (env false) resolved in %s", time.Since(start))
	require.NotRegexp(t, sr3AnyFinding(ns), a.metrics(t))
	a.stop(t, 15*time.Second)
}

// sr3OTLP is an OTLP/HTTP logs receiver keeping the raw (decompressed) request bodies:
// protobuf carries strings verbatim, so a substring search finds any leaked value.
type sr3OTLP struct {
	mu     sync.Mutex
	bodies bytes.Buffer
}

func (o *sr3OTLP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rd = gz
	}
	b, _ := io.ReadAll(rd)
	o.mu.Lock()
	o.bodies.Write(b)
	o.bodies.WriteByte('\n')
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (o *sr3OTLP) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bodies.String()
}

// sr3CLI runs the binary once against the test apiserver; it returns stdout, stderr
// and the exit code.
func sr3CLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// TestSR3SecretsNeverLeak (issue requirement): no secret-looking value from a LiteLLM
// config or a container environment (master_key, database_url, passwords, api keys) nor
// from a Secret the proxies reference ever appears in the daemon's debug logs, /metrics,
// /evidence, the evidence files, OTLP finding events, `scan -o json`, `scan` (table),
// `evidence` or those commands' logs — while findings are open about exactly the
// objects holding them, so every message path near the secrets is exercised.
func TestSR3SecretsNeverLeak(t *testing.T) {
	const ns, secretName, cluster = "it-sr3-secrets", "it-sr3-litellm-secrets", "litellm-pg"
	// Each value has a distinctive core (no hex-only run that a digest could contain by chance).
	secrets := map[string]string{
		"alpha config master_key":              "sk-it-sr3-MASTER-QZWKJX7731",
		"alpha config database_url password":   "it-sr3-DBPASS-PWQRTZ4402",
		"alpha config cache_params.password":   "it-sr3-REDISPASS-YXWVUT9913",
		"alpha config router redis_url passwd": "it-sr3-REDISURLPW-MNOPQR5524",
		"alpha config model api_key":           "sk-it-sr3-APIKEY-GHIJKL6635",
		"alpha config environment_variables":   "sk-it-sr3-CFGENV-STUVWX8846",
		"alpha env literal LITELLM_SALT_KEY":   "sk-it-sr3-SALT-RSTUVW1157",
		"alpha env literal UI_PASSWORD":        "it-sr3-UIPW-KLMNOP2268",
		"beta env literal LITELLM_MASTER_KEY":  "sk-it-sr3-ENVMASTER-NOPQRS3379",
		"beta env literal DB_PASSWORD":         "it-sr3-ENVDBPASS-TUVWXY4480",
		"beta env literal REDIS_PASSWORD":      "it-sr3-ENVREDISPW-HIJKLM5591",
		"gamma config master_key":              "sk-it-sr3-GAMMA-OPQRST6602",
		"gamma config database_url password":   "it-sr3-GAMMAPW-UVWXYZ7713",
		"Secret master-key":                    "sk-it-sr3-SECRETOBJ-JKLMNO8824",
		"Secret uri password":                  "it-sr3-SECRETDBPW-PQRSTU9935",
		// Offline reproducers (hostile input): a Secret manifest whose YAML fails to
		// decode, and database URLs that are not URLs (once printed as "database host",
		// lower-cased, hence lower-case here).
		"Secret manifest, bad !!int":          "it-sr3-SECRETYAML-BCDEFG1246",
		"offline config database_url, no URL": "it-sr3-notaurl-hjklmn2357",
		"offline env DATABASE_URL, no URL":    "it-sr3-envnotaurl-opqrst3468",
	}
	s := func(k string) string {
		v, ok := secrets[k]
		require.True(t, ok, k)
		return v
	}

	otlp := &sr3OTLP{}
	srv := httptest.NewServer(otlp)
	t.Cleanup(srv.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")

	dyn := sr3InstallCNPG(t)
	createNamespace(t, ns, nil)

	sr3Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName}, StringData: map[string]string{
		"master-key":        s("Secret master-key"),
		"uri":               "postgresql://litellm:" + s("Secret uri password") + "@" + cluster + "-rw:5432/litellm",
		"allow-db-failopen": "true",
	}})
	// alpha: secrets written in the config itself; the flag `yes` (fail-open).
	sr3Create(t, sr3ConfigMap(ns, "alpha-litellm-config", "prod", `model_list:
  - model_name: llama
    litellm_params:
      model: hosted_vllm/llama
      api_base: http://vllm.serving.svc:8000/v1
      api_key: `+s("alpha config model api_key")+`
general_settings:
  master_key: `+s("alpha config master_key")+`
  database_url: postgresql://litellm:`+s("alpha config database_url password")+`@`+cluster+`-rw.`+ns+`.svc:5432/litellm
  allow_requests_on_db_unavailable: yes
litellm_settings:
  cache: true
  cache_params:
    type: redis
    host: redis-master.`+ns+`.svc
    port: 6379
    password: `+s("alpha config cache_params.password")+`
router_settings:
  redis_url: redis://:`+s("alpha config router redis_url passwd")+`@redis-master.`+ns+`.svc:6379/0
environment_variables:
  OPENAI_API_KEY: `+s("alpha config environment_variables")+`
`))
	sr3Create(t, sr3Deployment(ns, "alpha", "alpha-litellm-config",
		sr3Literal("LITELLM_SALT_KEY", s("alpha env literal LITELLM_SALT_KEY")),
		sr3Literal("UI_PASSWORD", s("alpha env literal UI_PASSWORD")),
		sr3FromSecret("PROXY_ADMIN_KEY", secretName, "master-key"),
	))
	// beta: everything from the environment (literals, a $(VAR)-built DATABASE_URL, a
	// real Secret); the flag from the Secret (unverifiable).
	sr3Create(t, sr3ConfigMap(ns, "beta-litellm-config", "prod", `model_list:
  - model_name: llama
    litellm_params:
      model: hosted_vllm/llama
      api_base: http://vllm.serving.svc:8000/v1
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  database_url: os.environ/DATABASE_URL
  allow_requests_on_db_unavailable: os.environ/ALLOW_DB_FAILOPEN
litellm_settings:
  cache: true
  cache_params:
    type: redis
    host: os.environ/REDIS_HOST
    port: os.environ/REDIS_PORT
    password: os.environ/REDIS_PASSWORD
router_settings:
  redis_host: os.environ/REDIS_HOST
  redis_port: os.environ/REDIS_PORT
  redis_password: os.environ/REDIS_PASSWORD
`))
	sr3Create(t, sr3Deployment(ns, "beta", "beta-litellm-config",
		sr3Literal("LITELLM_MASTER_KEY", s("beta env literal LITELLM_MASTER_KEY")),
		sr3Literal("DB_PASSWORD", s("beta env literal DB_PASSWORD")),
		sr3Literal("DATABASE_URL", "postgresql://litellm:$(DB_PASSWORD)@"+cluster+"-rw:5432/litellm"),
		sr3Literal("REDIS_HOST", "redis-master."+ns+".svc"),
		sr3Literal("REDIS_PORT", "6379"),
		sr3Literal("REDIS_PASSWORD", s("beta env literal REDIS_PASSWORD")),
		sr3FromSecret("ALLOW_DB_FAILOPEN", secretName, "allow-db-failopen"),
		sr3FromSecret("LITELLM_LICENSE", secretName, "master-key"),
	))
	// gamma: found by its name, not loadable — an invalid escape inside the quoted URL,
	// right after the password, and the master key on the line before.
	sr3Create(t, sr3ConfigMap(ns, "gamma-litellm-config", "prod", `general_settings:
  master_key: `+s("gamma config master_key")+`
  database_url: "postgresql://litellm:`+s("gamma config database_url password")+`\q@`+cluster+`-rw:5432/litellm"
`))
	// One instance behind both prod proxies: the HA message names the database host
	// read from alpha's literal URL and beta's expanded one.
	sr3CreateCluster(t, dyn, ns, cluster, 1, 1)

	evidenceDir := t.TempDir()
	a := startAuditor(t, "--config", sr3WriteConfig(t), "--log-level", "debug",
		"--evidence-dir", evidenceDir, "--evidence-interval", "1s")

	type want struct{ rule, severity, kind, name, msg string }
	wants := []want{
		{"budget-fail-open-in-prod", "critical", "ConfigMap", "alpha-litellm-config", `"yes" (line 10, column 37)`},
		{"budget-fail-open-unverifiable", "medium", "ConfigMap", "beta-litellm-config",
			"Secret " + ns + "/" + secretName + " key allow-db-failopen"},
		{"budget-db-not-ha-in-prod", "high", "Cluster", cluster, "database host " + cluster + "-rw." + ns + ".svc from general_settings.database_url"},
		{"litellm-config-unparseable", "high", "ConfigMap", "gamma-litellm-config", "line 3"},
	}
	start := time.Now()
	for _, w := range wants {
		a.waitMetric(t, 10*time.Second, sr3Series(w.rule, w.severity, ns, w.kind, w.name))
	}
	t.Logf("all four findings open on /metrics after %s", time.Since(start))
	// beta's $(DB_PASSWORD)-expanded URL names the same host.
	assert.Contains(t, sr3Message(t, a, "budget-db-not-ha-in-prod", ns, "Cluster", cluster),
		"database host "+cluster+"-rw from general_settings.database_url (os.environ/DATABASE_URL)")
	// Nothing else about these proxies: both have a Redis, so only the four above.
	assert.NotRegexp(t, `enforcement_auditor_finding\{[^}]*namespace="`+ns+`",rule="budget-cache-not-redis-in-prod"`, a.metrics(t))

	// checkFindings requires the four findings, with their messages, in a JSON document.
	checkFindings := func(what string, doc []byte) {
		t.Helper()
		fs := sr3Findings(t, doc)
		for _, w := range wants {
			f := sr3Pick(fs, w.rule, ns, w.kind, w.name)
			if assert.NotNil(t, f, "%s: no %s finding on %s %s", what, w.rule, w.kind, w.name) {
				assert.Contains(t, f.Message, w.msg, "%s: %s", what, w.rule)
			}
		}
	}

	// The evidence files: wait for one written after the findings opened.
	hasAll := func(doc []byte) bool {
		fs := sr3Findings(t, doc)
		for _, w := range wants {
			if sr3Pick(fs, w.rule, ns, w.kind, w.name) == nil {
				return false
			}
		}
		return true
	}
	var files map[string][]byte
	var complete []byte
	ok := assertEventually(20*time.Second, func() bool {
		files = map[string][]byte{}
		entries, err := os.ReadDir(evidenceDir)
		require.NoError(t, err)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(evidenceDir, e.Name()))
			if err != nil {
				continue // pruned meanwhile
			}
			files[e.Name()] = b
			if strings.HasSuffix(e.Name(), ".json") && hasAll(b) {
				complete = b
			}
		}
		return complete != nil
	})
	require.True(t, ok, "no evidence file with the four findings in %s", evidenceDir)
	checkFindings("evidence file", complete)

	metrics := a.metrics(t)
	code, evidenceBody := a.get("/evidence")
	require.Equal(t, http.StatusOK, code, evidenceBody)
	checkFindings("/evidence", []byte(evidenceBody))

	cfgFile := sr3WriteConfig(t)
	common := []string{"--kubeconfig", kubeconfig, "--config", cfgFile, "--log-level", "debug"}
	scanJSON, scanJSONErr, code := sr3CLI(t, append([]string{"scan", "-o", "json"}, common...)...)
	require.Equal(t, 1, code, "scan -o json exits 1 on the critical finding; stderr:\n%s", scanJSONErr)
	checkFindings("scan -o json", []byte(scanJSON))
	scanTable, scanTableErr, code := sr3CLI(t, append([]string{"scan"}, common...)...)
	require.Equal(t, 1, code, "scan exits 1 on the critical finding; stderr:\n%s", scanTableErr)
	for _, w := range wants {
		assert.Contains(t, scanTable, w.rule)
	}
	assert.Contains(t, scanTable, "alpha-litellm-config")
	evidenceOut, evidenceErr, code := sr3CLI(t, append([]string{"evidence"}, common...)...)
	require.Equal(t, 0, code, "evidence; stderr:\n%s", evidenceErr)
	checkFindings("evidence command", []byte(evidenceOut))

	// OTLP finding events: the opened events of our findings arrive.
	ok = assertEventually(10*time.Second, func() bool {
		b := otlp.String()
		return strings.Contains(b, "alpha-litellm-config") && strings.Contains(b, "gamma-litellm-config") &&
			strings.Contains(b, secretName)
	})
	require.True(t, ok, "no OTLP finding events about the test's objects")

	a.stop(t, 15*time.Second)
	logs := a.Logs()
	require.Contains(t, logs, `"level":"DEBUG`, "the daemon did not log at debug level")
	require.Contains(t, logs, "budget-fail-open-in-prod")

	// Offline: the same commands over manifests holding the hostile-input reproducers.
	offline := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(offline, "all.yaml"), []byte(sr3OfflineManifests(
		s("Secret manifest, bad !!int"), s("offline config database_url, no URL"), s("offline env DATABASE_URL, no URL"))), 0o644))
	offlineScan, offlineScanErr, code := sr3CLI(t, "scan", "-f", offline, "-o", "json", "--log-level", "debug")
	require.Equal(t, 1, code, "offline scan exits 1 on the HA finding; stderr:\n%s", offlineScanErr)
	assert.Contains(t, offlineScan, "database host unknown")

	outputs := map[string]string{
		"offline scan":      offlineScan,
		"offline scan logs": offlineScanErr,
		"daemon logs":       logs,
		"/metrics":          metrics,
		"/evidence":         evidenceBody,
		"scan -o json":      scanJSON,
		"scan -o json logs": scanJSONErr,
		"scan table":        scanTable,
		"scan table logs":   scanTableErr,
		"evidence output":   evidenceOut,
		"evidence logs":     evidenceErr,
		"OTLP events":       otlp.String(),
	}
	outputs["evidence output (statement)"] = string(evidencePayload(t, []byte(evidenceOut)))
	for name, b := range files {
		outputs["evidence file "+name] = string(b)
		outputs["evidence file "+name+" (statement)"] = string(evidencePayload(t, b))
	}
	for where, text := range outputs {
		for what, secret := range secrets {
			core := secret[strings.LastIndex(secret, "-")+1:] // e.g. "QZWKJX7731"
			for _, needle := range []string{secret, core, base64.StdEncoding.EncodeToString([]byte(secret))} {
				if strings.Contains(text, needle) {
					i := strings.Index(text, needle)
					lo, hi := max(0, i-200), min(len(text), i+len(needle)+200)
					t.Errorf("%s (%q) leaks into %s: ...%s...", what, needle, where, text[lo:hi])
				}
			}
		}
	}
}

// sr3OfflineManifests: a prod proxy whose database_url and DATABASE_URL are not URLs, a
// one-instance Cluster beside it, and a Secret whose data cannot decode.
func sr3OfflineManifests(secretData, configURL, envURL string) string {
	return `apiVersion: v1
kind: Namespace
metadata: {name: it-sr3-offline, labels: {llm-platform/profile: prod}}
---
apiVersion: v1
kind: Secret
metadata: {name: broken, namespace: it-sr3-offline}
data:
  token: !!int ` + secretData + `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: litellm-config, namespace: it-sr3-offline, labels: {app.kubernetes.io/name: litellm}}
data:
  config.yaml: |
    general_settings:
      database_url: ` + configURL + `
      allow_requests_on_db_unavailable: false
    litellm_settings:
      cache: true
      cache_params: {type: redis, host: redis.it-sr3-offline.svc, port: 6379}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: litellm, namespace: it-sr3-offline}
spec:
  replicas: 1
  selector: {matchLabels: {app: litellm}}
  template:
    metadata: {labels: {app: litellm}}
    spec:
      containers:
      - name: litellm
        image: ghcr.io/berriai/litellm-database:main-stable
        args: ["--config", "/etc/litellm/config.yaml"]
        env:
        - {name: DATABASE_URL, value: ` + envURL + `}
        volumeMounts: [{name: c, mountPath: /etc/litellm/config.yaml, subPath: config.yaml}]
      volumes: [{name: c, configMap: {name: litellm-config}}]
---
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: litellm-pg, namespace: it-sr3-offline}
spec: {instances: 1}
`
}

// TestSR3SideDoors: on a real apiserver, the daemon judges the file LiteLLM loads, not
// the one --config names (env CONFIG_FILE_PATH wins, then the last --config), and a dev
// label on a prod namespace's proxy is a downgrade finding of its own.
func TestSR3SideDoors(t *testing.T) {
	const ns = "it-sr3-side"
	createNamespace(t, ns, map[string]string{"llm-platform/profile": "prod"})
	a := startAuditor(t, "--config", sr3WriteConfig(t))

	sr3Create(t, sr3ConfigMap(ns, "litellm-config", "prod", sr3LifecycleConfig("false")))
	sr3Create(t, sr3ConfigMap(ns, "litellm-shadow", "prod", sr3LifecycleConfig("yes")))
	d := sr3Deployment(ns, "litellm", "litellm-config", sr3Literal("REDIS_HOST", "redis"), sr3Literal("REDIS_PORT", "6379"))
	d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "shadow", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "litellm-shadow"}}}})
	c := &d.Spec.Template.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "shadow", MountPath: "/etc/litellm/shadow.yaml", SubPath: "config.yaml"})
	sr3Create(t, d)

	failOpen := sr3Series("budget-fail-open-in-prod", "critical", ns, "ConfigMap", "litellm-shadow")
	downgrade := sr3Series("budget-profile-downgrade", "medium", ns, "ConfigMap", "litellm-shadow")
	// The --config file is fail-closed: its DB finding (no CNPG Cluster) proves it is judged.
	a.waitMetric(t, 15*time.Second, sr3Series("budget-db-not-ha-in-prod", "medium", ns, "ConfigMap", "litellm-config"))
	require.NotRegexp(t, failOpen, a.metrics(t), "the mounted but unloaded shadow config is judged")

	sr3SetEnv(t, ns, "litellm", append(c.Env, sr3Literal("CONFIG_FILE_PATH", "/etc/litellm/shadow.yaml"))...)
	a.waitMetric(t, 10*time.Second, failOpen)
	assert.Contains(t, sr3Message(t, a, "budget-fail-open-in-prod", ns, "ConfigMap", "litellm-shadow"),
		`named by env CONFIG_FILE_PATH (env CONFIG_FILE_PATH of container litellm), which LiteLLM's startup prefers over --config "/etc/litellm/config.yaml"`)

	// A dev label on the loaded config hides it from the prod rules: the downgrade is the finding.
	sr3UpdateConfigMap(t, ns, "litellm-shadow", func(cm *corev1.ConfigMap) { cm.Labels["llm-platform/profile"] = "dev" })
	a.waitNoMetric(t, 10*time.Second, failOpen)
	a.waitMetric(t, 10*time.Second, downgrade)
	msg := sr3Message(t, a, "budget-profile-downgrade", ns, "ConfigMap", "litellm-shadow")
	assert.Contains(t, msg, "ConfigMap "+ns+"/litellm-shadow (llm-platform/profile=dev) overrides the prod profile of namespace "+ns)
	assert.Contains(t, msg, "which prod forbids")
}
