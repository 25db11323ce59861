package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const goldenFile = "testdata/evidence.golden.json"

func mustBuild(t *testing.T, in Input) *Document {
	t.Helper()
	doc, err := Build(in)
	require.NoError(t, err)
	return doc
}

func TestGoldenSignedDocument(t *testing.T) {
	doc := mustBuild(t, fixture())
	key, err := LoadPrivateKey("testdata/test-signing-key.pem")
	require.NoError(t, err)
	require.NoError(t, Sign(doc, key))
	got, err := Marshal(doc)
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile(goldenFile, got, 0o644))
	}
	want, err := os.ReadFile(goldenFile)
	require.NoError(t, err, "run go test ./exporters/evidence -run Golden -update to create it")
	assert.Equal(t, string(want), string(got), "rerun with -update if the change is intended")

	pub, err := LoadPublicKey("testdata/test-signing-key.pub.pem")
	require.NoError(t, err)
	require.NoError(t, Verify(want, pub), "the golden file verifies")
}

func findCheck(t *testing.T, doc *Document, rule string) Check {
	t.Helper()
	for _, c := range doc.Controls {
		for _, chk := range c.Checks {
			if chk.Rule == rule {
				return chk
			}
		}
	}
	t.Fatalf("no check %s", rule)
	return Check{}
}

func TestBuildJudgesChecks(t *testing.T) {
	doc := mustBuild(t, fixture())

	require.Len(t, doc.Controls, 3)
	status := map[string]string{}
	for _, c := range doc.Controls {
		status[c.ID] = c.Status
	}
	assert.Equal(t, map[string]string{"SR1": "enforced", "SR2": "violated", "SR3": "violated"}, status)
	assert.Equal(t, CheckSummary{Pass: 1, Fail: 1, Inconclusive: 1}, doc.Controls[1].Summary, "SR2")

	cases := map[string]struct {
		result            string
		findings, waived  int
		reasons           int
		total, omitted    int
		firstObject       string // kind/namespace/name of Objects[0]
		firstObjectHashed bool
	}{
		"namespace-missing-default-deny": {result: ResultPass, total: 5, omitted: 2, firstObject: "Namespace//kube-system"},
		// The pod the finding names comes first although "ml-team" sorts after "kube-system".
		"gpu-pod-missing-queue-name": {result: ResultFail, findings: 1, total: 7, omitted: 4, firstObject: "Pod/ml-team/trainer-0"},
		"gpu-workload-not-admitted":  {result: ResultInconclusive, reasons: 1, total: 2, firstObject: "Pod/ml-team/trainer-0"},
		// A low-severity finding does not fail the check (nor the control).
		"kueue-gate-not-enforcing": {result: ResultPass, findings: 1, total: 2, firstObject: "ClusterPolicy//odd"},
		"litellm-fail-open":        {result: ResultFail, findings: 1, total: 2, firstObject: "ConfigMap/litellm/litellm-config"},
		// A waived finding does not fail the check.
		"cnpg-instances-below-minimum": {result: ResultPass, waived: 1, total: 1, firstObject: "Cluster/litellm/litellm-db"},
	}
	for rule, tc := range cases {
		t.Run(rule, func(t *testing.T) {
			chk := findCheck(t, doc, rule)
			assert.Equal(t, tc.result, chk.Result)
			assert.Equal(t, tc.findings, chk.Findings, "findings")
			assert.Equal(t, tc.waived, chk.Waived, "waived")
			assert.Len(t, chk.Reasons, tc.reasons)
			assert.Equal(t, tc.total, chk.ObjectsTotal, "objectsTotal")
			assert.Equal(t, tc.omitted, chk.ObjectsOmitted, "objectsOmitted")
			assert.Len(t, chk.Objects, tc.total-tc.omitted)
			require.NotEmpty(t, chk.Objects)
			o := chk.Objects[0]
			assert.Equal(t, tc.firstObject, o.Kind+"/"+o.Namespace+"/"+o.Name)
			for _, o := range chk.Objects {
				assert.Len(t, o.SHA256, 64, "%s/%s hashed", o.Kind, o.Name)
				assert.Empty(t, o.HashError)
			}
		})
	}
}

func TestBuildRecordsIdentityFindingsAndWaivers(t *testing.T) {
	in := fixture()
	doc := mustBuild(t, in)

	assert.Equal(t, Cluster{ID: "6c1d3f0e-9b1a-4c55-8f0e-2d4c7a9b1e01", Source: SourceCluster}, doc.Cluster)
	assert.Equal(t, genAt, doc.GeneratedAt)
	assert.Equal(t, evalAt, doc.EvaluatedAt)
	cfgSum, err := HashCanonical(auditor.DefaultConfig())
	require.NoError(t, err)
	assert.Equal(t, cfgSum, doc.Config.SHA256)
	assert.Equal(t, 3, doc.Limits.MaxObjectsPerCheck)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, doc.Digest)

	require.Len(t, doc.Findings, 4)
	byRule := map[string]Finding{}
	for _, f := range doc.Findings {
		byRule[f.Rule] = f
	}
	gpu := byRule["gpu-pod-missing-queue-name"]
	assert.Equal(t, openedAt, gpu.FirstSeen, "first seen comes from the store record")
	assert.Equal(t, evalAt, gpu.LastSeen)
	assert.Equal(t, in.Evaluation.Findings[0].Fingerprint(), gpu.Fingerprint)
	assert.Equal(t, &ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "ml-team", Name: "trainer-0"}, gpu.Object)
	assert.Equal(t, evalAt, byRule["kueue-gate-not-enforcing"].FirstSeen, "a finding without a record was first seen now")

	require.Len(t, doc.Waivers, 1)
	w := doc.Waivers[0]
	assert.Equal(t, "cnpg-instances-below-minimum", w.Rule)
	assert.Equal(t, "migration PLAT-7", w.Reason)
	require.NotNil(t, w.Until)
	assert.Equal(t, waiverEnd, *w.Until)
	assert.Equal(t, byRule["cnpg-instances-below-minimum"].Fingerprint, w.Fingerprint)

	res := map[string]Resource{}
	for _, r := range doc.Resources {
		res[r.ID] = r
	}
	assert.Equal(t, Resource{ID: auditor.ResourceKueueWorkloads, State: "not_served", Message: "the Kueue CRDs are not installed"}, res[auditor.ResourceKueueWorkloads])
	assert.Equal(t, 2, res[auditor.ResourcePods].Objects)
	assert.Equal(t, 1, res[auditor.ResourceJobs].Objects, "jobs come from the owner index")

	require.Len(t, doc.Probes.Network, 1)
	assert.Equal(t, "timeout", doc.Probes.Network[0].Outcome)
	require.Len(t, doc.Probes.Admission, 1)
	assert.False(t, doc.Probes.Admission[0].Admitted)
	require.Len(t, doc.Facts, 1)
	assert.Equal(t, 1.0, *doc.Facts[0].Value)
}

// The evidence proves what was read without copying it: no ConfigMap value, no env
// literal, no annotation value may appear in any form the document is served in.
func TestEvidenceContainsNoSecretValues(t *testing.T) {
	doc := mustBuild(t, fixture())
	key, err := LoadPrivateKey("testdata/test-signing-key.pem")
	require.NoError(t, err)
	require.NoError(t, Sign(doc, key))
	pretty, err := Marshal(doc)
	require.NoError(t, err)
	compact, err := Canonical(doc)
	require.NoError(t, err)
	for _, out := range [][]byte{pretty, compact} {
		// The flagged setting may be named (in a finding message); the values next to it may not.
		for _, secret := range append(plantedSecrets, "master_key", "DATABASE_URL", "postgresql://") {
			assert.False(t, strings.Contains(string(out), secret), "evidence contains %q", secret)
		}
	}
	// The fixture really holds them, so the check above can fail.
	s := fixtureSnapshot()
	assert.Contains(t, s.ConfigMaps[0].Data["config.yaml"], plantedSecrets[0])
	assert.Contains(t, s.Deployments[0].Spec.Template.Spec.Containers[0].Env[0].Value, plantedSecrets[1])
}

func configMapHash(t *testing.T, in Input) string {
	t.Helper()
	chk := findCheck(t, mustBuild(t, in), "litellm-fail-open")
	require.Equal(t, "ConfigMap", chk.Objects[0].Kind)
	return chk.Objects[0].SHA256
}

func TestObjectHashCoversWhatRulesReadOnly(t *testing.T) {
	base := configMapHash(t, fixture())
	cases := map[string]struct {
		mutate  func(in Input)
		changes bool
	}{
		"a data value changes the hash": {changes: true, mutate: func(in Input) {
			in.Evaluation.Snapshot.ConfigMaps[0].Data["config.yaml"] = "general_settings:\n  allow_requests_on_db_unavailable: false\n"
		}},
		"an annotation changes the hash (waivers live there)": {changes: true, mutate: func(in Input) {
			in.Evaluation.Snapshot.ConfigMaps[0].Annotations[auditor.WaiveAnnotation] = "litellm-fail-open"
		}},
		"resourceVersion does not (it is listed beside the hash)": {mutate: func(in Input) {
			in.Evaluation.Snapshot.ConfigMaps[0].ResourceVersion = "100"
		}},
		"managedFields do not": {mutate: func(in Input) {
			in.Evaluation.Snapshot.ConfigMaps[0].ManagedFields = append(in.Evaluation.Snapshot.ConfigMaps[0].ManagedFields,
				metav1.ManagedFieldsEntry{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply})
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := fixture()
			tc.mutate(in)
			got := configMapHash(t, in)
			if tc.changes {
				assert.NotEqual(t, base, got)
			} else {
				assert.Equal(t, base, got)
			}
		})
	}
}

// The documented recipe reproduces an object's hash from what the API serves.
func TestObjectHashRecipe(t *testing.T) {
	want := `{"apiVersion":"v1","data":{"config.yaml":"general_settings:\n  master_key: sk-secret-master-key-1234\n  allow_requests_on_db_unavailable: true\n"},` +
		`"kind":"ConfigMap","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"config.yaml\":\"general_settings:\\n  master_key: sk-secret-last-applied\\n\"}}"},` +
		`"name":"litellm-config","namespace":"litellm"}}`
	sum := sha256.Sum256([]byte(want))
	assert.Equal(t, hex.EncodeToString(sum[:]), configMapHash(t, fixture()))
}

func TestBuildOffline(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "b.yaml"), filepath.Join(dir, "a.yaml")
	require.NoError(t, os.WriteFile(a, []byte("kind: Namespace\n"), 0o644))
	require.NoError(t, os.WriteFile(b, []byte("kind: Pod\n"), 0o644))
	files := []SourceFile{{Path: a, SHA256: SHA256Hex([]byte("kind: Namespace\n"))}, {Path: b, SHA256: SHA256Hex([]byte("kind: Pod\n"))},
		{Path: "<stdin>", SHA256: SHA256Hex(nil)}}
	in := fixture()
	in.Offline = true
	in.SourceFiles = files
	doc := mustBuild(t, in)
	sum := sha256.Sum256([]byte("kind: Namespace\n"))
	assert.Equal(t, Cluster{ID: OfflineClusterID, Source: SourceManifests, Files: []SourceFile{
		{Path: b, SHA256: SHA256Hex([]byte("kind: Pod\n"))}, {Path: a, SHA256: hex.EncodeToString(sum[:])}, {Path: "<stdin>", SHA256: SHA256Hex(nil)},
	}}, doc.Cluster, "sorted by path")
}

func TestBuildBoundsAndEdges(t *testing.T) {
	t.Run("negative bound lists every object", func(t *testing.T) {
		in := fixture()
		in.MaxObjectsPerCheck = -1
		chk := findCheck(t, mustBuild(t, in), "gpu-pod-missing-queue-name")
		assert.Len(t, chk.Objects, 7)
		assert.Zero(t, chk.ObjectsOmitted)
	})
	t.Run("zero bound takes the default", func(t *testing.T) {
		in := fixture()
		in.MaxObjectsPerCheck = 0
		assert.Equal(t, DefaultMaxObjectsPerCheck, mustBuild(t, in).Limits.MaxObjectsPerCheck)
	})
	t.Run("no kube-system namespace: the cluster is unknown, and says why", func(t *testing.T) {
		in := fixture()
		in.Evaluation.Snapshot.Namespaces = in.Evaluation.Snapshot.Namespaces[1:]
		c := mustBuild(t, in).Cluster
		assert.Equal(t, "unknown", c.ID)
		assert.Contains(t, c.Note, "kube-system")
	})
	t.Run("a long inconclusive reason is truncated", func(t *testing.T) {
		in := fixture()
		in.Evaluation.Inconclusive["gpu-workload-not-admitted"] = []string{strings.Repeat("é", 2000)}
		chk := findCheck(t, mustBuild(t, in), "gpu-workload-not-admitted")
		require.Len(t, chk.Reasons, 1)
		assert.LessOrEqual(t, len(chk.Reasons[0]), maxReasonLength+len("…"))
		assert.True(t, strings.HasSuffix(chk.Reasons[0], "é…"), "cut on a character boundary")
	})
	t.Run("duplicate findings count once", func(t *testing.T) {
		in := fixture()
		in.Evaluation.Findings = append(in.Evaluation.Findings, in.Evaluation.Findings[0])
		doc := mustBuild(t, in)
		assert.Len(t, doc.Findings, 4)
		assert.Equal(t, 1, findCheck(t, doc, "gpu-pod-missing-queue-name").Findings)
	})
	errs := map[string]func(in *Input){
		"no evaluation": func(in *Input) { in.Evaluation = nil },
		"no snapshot":   func(in *Input) { in.Evaluation.Snapshot = nil },
		"no time":       func(in *Input) { in.GeneratedAt = time.Time{} },
		"no rules":      func(in *Input) { in.Rules = nil },
	}
	for name, mutate := range errs {
		t.Run("error: "+name, func(t *testing.T) {
			in := fixture()
			mutate(&in)
			_, err := Build(in)
			assert.Error(t, err)
		})
	}
}
