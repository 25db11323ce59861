package kyverno

import (
	"strings"
	"time"
)

// IdleDeadline is how old Kyverno's health lease may get before Kyverno's own watchdog
// strips the policy rules from its webhooks (10 x the 10s ticker).
const IdleDeadline = 100 * time.Second

// ResourceFilter is one entry of the resourceFilters of Kyverno's ConfigMap: requests it
// matches are skipped before any policy runs. Kind and Namespace are wildcards, "*" when
// the entry leaves them empty; Raw is the entry as written, brackets included.
type ResourceFilter struct{ Kind, Namespace, Name, Raw string }

// ParseResourceFilters reads Kyverno's "[Kind,Namespace,Name][...]" filter list.
func ParseResourceFilters(s string) []ResourceFilter {
	var out []ResourceFilter
	for {
		i := strings.Index(s, "[")
		if i < 0 {
			return out
		}
		j := strings.Index(s[i:], "]")
		if j < 0 {
			return out
		}
		body := s[i+1 : i+j]
		s = s[i+j+1:]
		parts := strings.Split(body, ",")
		f := ResourceFilter{Raw: "[" + body + "]", Kind: "*", Namespace: "*", Name: "*"}
		for k, p := range parts {
			p = strings.TrimSpace(p)
			switch k {
			case 0:
				f.Kind = p
			case 1:
				f.Namespace = p
			case 2:
				f.Name = p
			}
		}
		if f.Kind == "" {
			f.Kind = "*"
		}
		if f.Namespace == "" {
			f.Namespace = "*"
		}
		out = append(out, f)
	}
}
