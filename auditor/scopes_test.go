package auditor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestControlScopes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SR1.ProtectedNamespaces = []string{"serving", "inference", "serving"}
	cfg.SR1.TrustedNamespaces = []string{"monitoring", "litellm", "serving"}
	assert.Equal(t, []string{"inference", "serving"}, cfg.Protected(), "deduplicated and sorted")
	assert.True(t, cfg.IsProtected("serving"))
	assert.False(t, cfg.IsProtected("team-a"))
	assert.True(t, cfg.IsTrusted("litellm"))
	assert.False(t, cfg.IsTrusted("inference"))
	assert.True(t, cfg.TrustedFor("inference", "inference"), "a namespace reaches itself")
	assert.True(t, cfg.TrustedFor("inference", "litellm"))
	assert.False(t, cfg.TrustedFor("inference", "litellm-dev"), "not by prefix")
	assert.Equal(t, []string{"inference", "litellm", "monitoring", "serving"}, cfg.TrustedSources("inference"))
	assert.Equal(t, []string{"serving", "litellm", "monitoring"}, cfg.TrustedSources("serving"), "itself first, once")
	assert.True(t, cfg.IsProd("prod"))
	assert.False(t, cfg.IsProd("dev"))
}

func TestKueueManaged(t *testing.T) {
	cfg := DefaultConfig() // selector llm-platform/kueue-managed=true, serving excluded
	ns := func(name string, managed, terminating bool) *corev1.Namespace {
		n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if managed {
			n.Labels = map[string]string{"llm-platform/kueue-managed": "true"}
		}
		if terminating {
			n.DeletionTimestamp = &metav1.Time{}
		}
		return n
	}
	managed := cfg.KueueManaged()
	assert.True(t, managed(ns("team-a", true, false)))
	assert.True(t, managed(ns("team-b", true, true)), "a terminating namespace is still managed")
	assert.True(t, Terminating(ns("team-b", true, true)))
	assert.False(t, Terminating(ns("team-a", true, false)))
	assert.False(t, managed(ns("serving", true, false)), "excluded")
	assert.False(t, managed(ns("team-c", false, false)), "not selected")
	assert.False(t, managed(nil))
	got := cfg.KueueManagedNamespaces([]*corev1.Namespace{ns("team-z", true, false), ns("serving", true, false), ns("team-b", true, true), ns("web", false, false)})
	var names []string
	for _, n := range got {
		names = append(names, n.Name)
	}
	assert.Equal(t, []string{"team-b", "team-z"}, names, "sorted, terminating included")
}
