package auditor_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestLessMatchesKeyOrder compares the allocation-free order with auditor.Less on
// findings built from pieces that make the '|' separators matter (one kind a prefix of
// another, '|' and bytes around it in names and discriminators, missing objects,
// environments).
func TestLessMatchesKeyOrder(t *testing.T) {
	pieces := []string{"", "a", "ab", "a|b", "b", "Pod", "Pod2", "Po", "{", "|", "a{", "z", "ns", "ns-1"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return pieces[rng.IntN(len(pieces))] }
	gen := func() auditor.Finding {
		f := auditor.Finding{Rule: pick(), Control: auditor.Controls[rng.IntN(2)], Severity: auditor.Severity(rng.IntN(2)), Discriminator: pick()}
		if rng.IntN(4) > 0 {
			f.Object = &auditor.ObjectRef{Kind: pick(), Namespace: pick(), Name: pick()}
		}
		if rng.IntN(3) == 0 {
			f.Environment = pick()
		}
		return f
	}
	for n := 0; n < 200000; n++ {
		a, b := gen(), gen()
		require.Equal(t, keyLess(&a, &b), auditor.Less(&a, &b), "a=%q b=%q", a.Key(), b.Key())
		require.Equal(t, keyLess(&b, &a), auditor.Less(&b, &a), "a=%q b=%q", a.Key(), b.Key())
	}
}

func TestLessEqualKeysAreNotLess(t *testing.T) {
	obj := &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "team-a", Name: "a"}
	a := auditor.Finding{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh, Object: obj, Message: "m"}
	b := a
	b.Message = "other message"
	require.False(t, auditor.Less(&a, &b))
	require.False(t, auditor.Less(&b, &a))
}

// keyLess is the order's definition, spelled with the keys: what Less must agree with.
func keyLess(a, b *auditor.Finding) bool {
	if a.Control != b.Control {
		return a.Control < b.Control
	}
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	return a.Key() < b.Key()
}
