package live

import (
	"sync"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// changeLog records what changed between two evaluations: for object events, the
// resource and namespace (event handlers know both); for anything else (an informer
// started, stopped or synced, a list/watch error, the apiserver lost or back), the
// reason a full evaluation is needed. Its size is bounded by resources x namespaces.
type changeLog struct {
	mu      sync.Mutex
	reason  string
	objects map[string]map[string]bool
}

func (c *changeLog) object(resource, namespace string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.objects == nil {
		c.objects = map[string]map[string]bool{}
	}
	nss := c.objects[resource]
	if nss == nil {
		nss = map[string]bool{}
		c.objects[resource] = nss
	}
	nss[namespace] = true
}

func (c *changeLog) full(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reason == "" {
		c.reason = reason
	}
}

// drain returns the changes and forgets them.
func (c *changeLog) drain() auditor.ChangeSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := auditor.ChangeSet{Full: c.reason != "", Reason: c.reason, Objects: c.objects}
	c.reason, c.objects = "", nil
	return cs
}
