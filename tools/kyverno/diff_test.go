package kyverno

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	kyvernov1 "github.com/kyverno/kyverno/api/kyverno/v1"
	kpattern "github.com/kyverno/kyverno/pkg/engine/pattern"
	kvalidate "github.com/kyverno/kyverno/pkg/engine/validate"
	koperator "github.com/kyverno/kyverno/pkg/engine/variables/operator"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/rules/kyverno/operator"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno/validate"
)

func fromYAML(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// outcome reduces MatchPattern's answer to what the engine acts on: pass, skip (a
// condition or global anchor), fail at a path, or an error without a path.
func outcome(err error) string {
	if err == nil {
		return "pass"
	}
	if pe := (*kvalidate.PatternError)(nil); errors.As(err, &pe) {
		return fmt.Sprintf("skip=%v path=%q", pe.Skip, pe.Path)
	}
	if pe := (*validate.PatternError)(nil); errors.As(err, &pe) {
		return fmt.Sprintf("skip=%v path=%q", pe.Skip, pe.Path)
	}
	return "error"
}

var pods = []string{
	`{metadata: {name: p, labels: {kueue.x-k8s.io/queue-name: q}}, spec: {containers: [{name: a, resources: {limits: {nvidia.com/gpu: "1"}, requests: {nvidia.com/gpu: "1"}}}]}}`,
	`{metadata: {name: p}, spec: {containers: [{name: a, resources: {limits: {nvidia.com/gpu: "1"}}}]}}`,
	`{metadata: {name: p, labels: {kind: cpu}}, spec: {containers: [{name: a}]}}`,
	`{metadata: {name: p, labels: {kueue.x-k8s.io/queue-name: ""}}, spec: {containers: [{name: a, resources: {limits: {cpu: "1"}}}]}}`,
	`{metadata: {name: p, labels: {team: a}}, spec: {containers: [{name: a, resources: {limits: {nvidia.com/mig-1g.10gb: "1"}}}], initContainers: [{name: i, resources: {limits: {nvidia.com/gpu: "2"}}}]}}`,
	`{metadata: {name: p, annotations: {team.example/owner: x}}, spec: {containers: [{name: a, resources: {limits: {nvidia.com/gpu: "8"}}}, {name: b}]}}`,
}

var patterns = []string{
	`{metadata: {labels: {kueue.x-k8s.io/queue-name: "?*"}}}`,
	`{metadata: {labels: {"kueue.x-k8s.io/*": "?*"}}}`,
	`{metadata: {labels: {"=(kueue.x-k8s.io/*)": "?*"}}}`,
	`{metadata: {labels: {"team-*": "?*"}}}`,
	`{metadata: {annotations: {"team.example/*": "x"}}}`,
	`{metadata: {=(labels): {kueue.x-k8s.io/queue-name: "?*"}}}`,
	`{metadata: {labels: {X(kueue.x-k8s.io/queue-name): "null"}}}`,
	`{spec: {containers: [{resources: {limits: {X(nvidia.com/mig-*): "null"}}}]}}`,
	`{spec: {containers: [{resources: {limits: {X(nvidia.com/gpu): "null"}}}]}}`,
	`{spec: {containers: [{=(resources): {=(limits): {X(nvidia.com/gpu): "null"}}}]}}`,
	`{spec: {containers: [{(resources): {(limits): {(nvidia.com/gpu): "?*"}}}]}, metadata: {labels: {kueue.x-k8s.io/queue-name: "?*"}}}`,
	`{metadata: {<(labels): {kind: gpu}, labels: {kueue.x-k8s.io/queue-name: "?*"}}}`,
	`{spec: {^(containers): [{resources: {limits: {nvidia.com/gpu: "?*"}}}]}}`,
	`{spec: {containers: [{resources: {limits: {nvidia.com/gpu: "<2"}}}]}}`,
	`{spec: {containers: [{resources: {limits: {nvidia.com/gpu: ">0 & <8"}}}]}}`,
	`{spec: {containers: [{resources: {limits: {nvidia.com/gpu: "1|2"}}}]}}`,
	`{spec: {containers: [{name: "a*"}]}}`,
	`{spec: {containers: [{name: "!b"}]}}`,
	`{spec: {=(initContainers): [{resources: {limits: {X(nvidia.com/gpu): "null"}}}]}}`,
	`{metadata: {name: "?*", labels: {kueue.x-k8s.io/queue-name: "!"}}}`,
	`{spec: {containers: [{resources: {(limits): {nvidia.com/gpu: "?*"}}}], (initContainers): [{name: "?*"}]}}`,
}

// TestMatchPatternDifferential: the port of pkg/engine/validate gives the same answer
// as Kyverno's own MatchPattern on every pattern and pod of the tables.
func TestMatchPatternDifferential(t *testing.T) {
	n := 0
	for _, p := range patterns {
		for _, r := range pods {
			want := outcome(kvalidate.MatchPattern(logr.Discard(), fromYAML(t, r), fromYAML(t, p)))
			got := outcome(validate.Match(fromYAML(t, r), fromYAML(t, p)))
			if got != want {
				t.Errorf("pattern %s on %s: port %s, Kyverno %s", p, r, got, want)
			}
			n++
		}
	}
	t.Logf("%d pattern/pod pairs", n)
}

// TestLeafPatternDifferential: the port of pkg/engine/pattern Validate on leaves.
func TestLeafPatternDifferential(t *testing.T) {
	values := []any{nil, "", "a", "abc", "1", "1000000", "8", "1.5", "2Gi", "500m", int64(0), int64(1), int64(8), float64(1), float64(0.5), true, false, "1h", "30m"}
	leaves := []any{"*", "?*", "?", "!", "!*", "a*", "!a", ">0", ">=1", "<8", "<=0", ">0 & <8", "1|2", "0-10", "0!-10", "null", "!null", "1Gi", ">1Gi", "<1h", ">20m", "true", true, false, int64(0), int64(1), float64(1), nil, "", "a|b|", ">1000000"}
	n := 0
	for _, v := range values {
		for _, l := range leaves {
			want := kpattern.Validate(logr.Discard(), v, l)
			got := operator.ValidateValue(v, l)
			if got != want {
				t.Errorf("value %#v, pattern %#v: port %v, Kyverno %v", v, l, got, want)
			}
			n++
		}
	}
	t.Logf("%d value/pattern pairs", n)
}

// TestConditionOperatorDifferential: the port of pkg/engine/variables/operator on
// condition keys and values as substituted JSON holds them.
func TestConditionOperatorDifferential(t *testing.T) {
	panics := 0
	ops := []string{"Equals", "NotEquals", "equals", "In", "NotIn", "AnyIn", "AllIn", "AnyNotIn", "AllNotIn", "GreaterThan", "GreaterThanOrEquals", "LessThan", "LessThanOrEquals",
		"DurationGreaterThan", "DurationLessThan"}
	operands := []any{nil, "", "a", "nvidia.com/gpu", "nvidia.com/*", float64(0), float64(1), float64(2), float64(1000000), "0", "1", "1Gi", "2Gi", "1h", "30m", true, "true",
		[]any{}, []any{"a"}, []any{"a", "b"}, []any{"nvidia.com/gpu", "amd.com/gpu"}, []any{float64(1), float64(2)}, map[string]any{"a": "b"}}
	n := 0
	for _, op := range ops {
		kh := koperator.CreateOperatorHandler(logr.Discard(), nil, kyvernov1.ConditionOperator(op))
		for _, k := range operands {
			for _, v := range operands {
				want, panicked := kyvernoEvaluate(kh, k, v)
				got, ok, err := operator.Evaluate(op, k, v)
				switch {
				case !ok:
					t.Errorf("%s: the port does not know the operator", op)
				case panicked != (err != nil):
					t.Errorf("%#v %s %#v: port error %v, Kyverno panics %v", k, op, v, err, panicked)
				case !panicked && got != want:
					t.Errorf("%#v %s %#v: port %v, Kyverno %v", k, op, v, got, want)
				}
				if panicked {
					panics++
				}
				n++
			}
		}
	}
	t.Logf("%d operator/key/value triples (%d on which Kyverno panics, as the port reports)", n, panics)
}

func kyvernoEvaluate(h koperator.OperatorHandler, k, v any) (result, panicked bool) {
	defer func() {
		if recover() != nil {
			result, panicked = false, true
		}
	}()
	return h.Evaluate(k, v), false
}
