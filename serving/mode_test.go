package serving

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModeValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		mode Mode
		// want is a piece of the error; "" when the mode is valid.
		want string
	}{
		"https, self-signed":                {Mode{MetricsAuth: MetricsAuthNone}, ""},
		"https, own certificate":            {Mode{MetricsAuth: MetricsAuthNone, CertFile: "tls.crt", KeyFile: "tls.key"}, ""},
		"insecure":                          {Mode{Insecure: true, MetricsAuth: MetricsAuthNone}, ""},
		"insecure with kubernetes auth":     {Mode{Insecure: true, MetricsAuth: MetricsAuthKubernetes}, ""},
		"insecure with a certificate":       {Mode{Insecure: true, MetricsAuth: MetricsAuthNone, CertFile: "tls.crt", KeyFile: "tls.key"}, "--insecure-serving serves plain HTTP"},
		"insecure with a key alone":         {Mode{Insecure: true, MetricsAuth: MetricsAuthNone, KeyFile: "tls.key"}, "cannot take --tls-cert-file or --tls-private-key-file"},
		"insecure, kubernetes auth and TLS": {Mode{Insecure: true, MetricsAuth: MetricsAuthKubernetes, CertFile: "tls.crt", KeyFile: "tls.key"}, "--insecure-serving serves plain HTTP"},
		"kubernetes auth without insecure":  {Mode{MetricsAuth: MetricsAuthKubernetes}, "--metrics-auth goes with --insecure-serving"},
		"unknown metrics auth":              {Mode{Insecure: true, MetricsAuth: "basic"}, `--metrics-auth: "basic"`},
		"metrics auth unset":                {Mode{}, ""},
		"certificate without its key":       {Mode{MetricsAuth: MetricsAuthNone, CertFile: "tls.crt"}, "go together"},
		"limits":                            {Mode{MetricsAuth: MetricsAuthNone, Limits: Limits{MaxConnections: 8, IdleTimeout: time.Second}}, ""},
		"negative connection cap":           {Mode{MetricsAuth: MetricsAuthNone, Limits: Limits{MaxConnections: -1}}, "--http-max-connections: negative"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.mode.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
