package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	list := func(pkgs ...pkg) *json.Decoder {
		var b strings.Builder
		for _, p := range pkgs {
			j, _ := json.Marshal(p)
			b.Write(j)
		}
		return json.NewDecoder(strings.NewReader(b.String()))
	}
	cases := map[string]struct {
		pkgs []pkg
		want []string
	}{
		"vocabulary importing rules": {pkgs: []pkg{{ImportPath: module + "auditor", Imports: []string{module + "rules"}}},
			want: []string{"auditor imports rules"}},
		"a source importing the engine": {pkgs: []pkg{{ImportPath: module + "auditor/live", Imports: []string{module + "auditor/engine", module + "auditor"}}},
			want: []string{"auditor/live imports auditor/engine"}},
		"an exporter importing a rule package": {pkgs: []pkg{{ImportPath: module + "exporters/otel", Imports: []string{module + "rules/netpol"}}},
			want: []string{"exporters/otel imports rules/netpol"}},
		"a rule importing the store": {pkgs: []pkg{{ImportPath: module + "rules/kyverno", Imports: []string{module + "auditor/store"}}},
			want: []string{"rules/kyverno imports auditor/store"}},
		"the one-way flow": {pkgs: []pkg{
			{ImportPath: module + "auditor/engine", Imports: []string{module + "auditor", module + "auditor/store", "fmt"}},
			{ImportPath: module + "exporters/prometheus", Imports: []string{module + "auditor", module + "auditor/store"}},
			{ImportPath: module + "cmd/enforcement-auditor/app", Imports: []string{module + "rules", module + "auditor/engine", module + "exporters/otel"}},
			{ImportPath: module + "rulesets", Imports: []string{module + "auditor/engine"}}, // not under rules/
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, check(list(tc.pkgs...))) })
	}
}
