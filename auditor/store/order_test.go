package store

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestLessMatchesAuditorLess compares the allocation-free order with auditor.Less on
// findings built from pieces that make the '|' separators matter (one kind a prefix of
// another, '|' and bytes around it in names and discriminators, missing objects).
func TestLessMatchesAuditorLess(t *testing.T) {
	pieces := []string{"", "a", "ab", "a|b", "b", "Pod", "Pod2", "Po", "{", "|", "a{", "z", "ns", "ns-1"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return pieces[rng.IntN(len(pieces))] }
	gen := func() auditor.Finding {
		f := auditor.Finding{Rule: pick(), Control: auditor.Controls[rng.IntN(2)], Severity: auditor.Severity(rng.IntN(2)), Discriminator: pick()}
		if rng.IntN(4) > 0 {
			f.Object = &auditor.ObjectRef{Kind: pick(), Namespace: pick(), Name: pick()}
		}
		return f
	}
	for n := 0; n < 200000; n++ {
		a, b := gen(), gen()
		require.Equal(t, auditor.Less(&a, &b), Less(&a, &b), "a=%q b=%q", a.Key(), b.Key())
		require.Equal(t, auditor.Less(&b, &a), Less(&b, &a), "a=%q b=%q", a.Key(), b.Key())
	}
}

func TestLessEqualKeysAreNotLess(t *testing.T) {
	a := gpuFinding("a", auditor.SeverityHigh, "m")
	b := gpuFinding("a", auditor.SeverityHigh, "other message")
	require.False(t, Less(&a, &b))
	require.False(t, Less(&b, &a))
}
