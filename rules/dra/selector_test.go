package dra

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSelectorCanSelect(t *testing.T) {
	cases := map[string]struct {
		expr   string
		driver string
		want   bool
		err    string
	}{
		"driver equal":                       {expr: `device.driver == "gpu.nvidia.com"`, driver: "gpu.nvidia.com", want: true},
		"other driver":                       {expr: `device.driver == "gpu.nvidia.com"`, driver: "nic.example.com", want: false},
		"driver and attribute: can":          {expr: `device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'`, driver: "gpu.nvidia.com", want: true},
		"driver and attribute: other driver": {expr: `device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'`, driver: "x.example.com", want: false},
		"attribute only":                     {expr: `device.attributes['gpu.nvidia.com'].type == 'mig'`, driver: "gpu.nvidia.com", want: true},
		"has on attribute":                   {expr: `has(device.attributes['gpu.nvidia.com'].productName)`, driver: "gpu.nvidia.com", want: true},
		"capacity":                           {expr: `device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0`, driver: "gpu.nvidia.com", want: true},
		"driver in list":                     {expr: `device.driver in ['gpu.nvidia.com', 'gpu.amd.com']`, driver: "gpu.nvidia.com", want: true},
		"driver prefix":                      {expr: `device.driver.endsWith('.nvidia.com')`, driver: "gpu.nvidia.com", want: true},
		"negated driver":                     {expr: `device.driver != 'gpu.nvidia.com'`, driver: "gpu.nvidia.com", want: false},
		"or with other driver":               {expr: `device.driver == 'nic.example.com' || device.attributes['x'].y == 1`, driver: "gpu.nvidia.com", want: true},
		"true":                               {expr: `true`, driver: "gpu.nvidia.com", want: true},
		"false":                              {expr: `false`, driver: "gpu.nvidia.com", want: false},
		"syntax error":                       {expr: `device.driver ==`, driver: "gpu.nvidia.com", err: "compilation failed"},
		"not a boolean":                      {expr: `device.driver`, driver: "gpu.nvidia.com", err: "must evaluate to bool"},
		"unknown variable":                   {expr: `pod.name == "x"`, driver: "gpu.nvidia.com", err: "undeclared reference"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := SelectorCanSelect(tc.expr, tc.driver)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
