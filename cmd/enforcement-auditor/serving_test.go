package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRunRefusesInsecureServingWithTLS: --insecure-serving with a TLS flag, or
// --metrics-auth misused, exits 2 before anything starts (the kubeconfig's API server
// does not answer), naming the flags.
func TestRunRefusesInsecureServingWithTLS(t *testing.T) {
	kubeconfig := writeFile(t, t.TempDir(), "kubeconfig", `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"insecure with a certificate": {[]string{"--insecure-serving", "--tls-cert-file", "tls.crt", "--tls-private-key-file", "tls.key"},
			"--insecure-serving serves plain HTTP with no authentication and cannot take --tls-cert-file"},
		"insecure with kubernetes auth and a certificate": {[]string{"--insecure-serving", "--metrics-auth", "kubernetes", "--tls-cert-file", "tls.crt", "--tls-private-key-file", "tls.key"},
			"cannot take --tls-cert-file"},
		"metrics auth without insecure": {[]string{"--metrics-auth", "kubernetes", "--tls-cert-file", "tls.crt", "--tls-private-key-file", "tls.key"},
			"--metrics-auth goes with --insecure-serving"},
		"unknown metrics auth":        {[]string{"--insecure-serving", "--metrics-auth", "token"}, `--metrics-auth: "token"`},
		"certificate without its key": {[]string{"--tls-cert-file", "tls.crt"}, "--tls-cert-file and --tls-private-key-file go together"},
		"negative header limit":       {[]string{"--http-max-header-bytes", "-1"}, "--http-max-header-bytes: negative"},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := execute(t, "", append([]string{"run", "--kubeconfig", kubeconfig, "--listen-address", "127.0.0.1:0"}, tc.args...)...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
