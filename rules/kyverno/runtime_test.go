package kyverno

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseResourceFilters(t *testing.T) {
	cases := map[string]struct {
		in   string
		want []ResourceFilter
	}{
		"several, spaced and not": {in: "[Event,*,*] [*/*,kube-system,*][Pod,team-*]\n[broken", want: []ResourceFilter{
			{Kind: "Event", Namespace: "*", Name: "*", Raw: "[Event,*,*]"},
			{Kind: "*/*", Namespace: "kube-system", Name: "*", Raw: "[*/*,kube-system,*]"},
			{Kind: "Pod", Namespace: "team-*", Name: "*", Raw: "[Pod,team-*]"},
		}},
		"empty":                 {in: ""},
		"no bracket":            {in: "Pod,team-a"},
		"empty fields are wild": {in: "[ , ,x]", want: []ResourceFilter{{Kind: "*", Namespace: "*", Name: "x", Raw: "[ , ,x]"}}},
		"kind only":             {in: "[Pod]", want: []ResourceFilter{{Kind: "Pod", Namespace: "*", Name: "*", Raw: "[Pod]"}}},
		"extra fields ignored":  {in: "[Pod,a,b,c]", want: []ResourceFilter{{Kind: "Pod", Namespace: "a", Name: "b", Raw: "[Pod,a,b,c]"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, ParseResourceFilters(tc.in))
		})
	}
}
