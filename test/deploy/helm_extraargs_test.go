package deploy

import (
	"bytes"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestHelmRefusesServingFlagsInExtraArgs: the serving security flags stay the chart's
// values. --insecure-serving in extraArgs beside tls.secretName used to render a pod
// serving HTTPS with no token check, its probes green.
func TestHelmRefusesServingFlagsInExtraArgs(t *testing.T) {
	for _, arg := range []string{
		"--insecure-serving", "--insecure-serving=true", "--metrics-auth=kubernetes", "--metrics-auth",
		"--tls-cert-file=/etc/tls/tls.crt", "--tls-private-key-file=/etc/tls/tls.key",
	} {
		t.Run(arg, func(t *testing.T) {
			cmd := exec.Command(tool(t, "helm"), "template", "x", chart, "--set", "tls.secretName=auditor-tls",
				"--set-json", `extraArgs=["--debounce=1s",`+quote(arg)+`]`)
			cmd.Dir = repoRoot(t)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			require.Error(t, cmd.Run(), "helm template with extraArgs %s must fail:\n%s", arg, out.String())
			assert.Contains(t, out.String(), "extraArgs: "+arg+" is a serving security flag")
		})
	}
	// Other flags pass through, in order.
	for _, o := range helmTemplate(t, "extraArgs={--debounce=1s,--resync=1m}") {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		require.NoError(t, err)
		args, _, err := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
		require.NoError(t, err)
		assert.Equal(t, []string{"--debounce=1s", "--resync=1m"}, args[len(args)-2:])
		return
	}
	t.Fatal("no Deployment rendered")
}

func quote(s string) string { return `"` + s + `"` }
