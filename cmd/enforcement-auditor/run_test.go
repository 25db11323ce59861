package main

import (
	"log/slog"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/cmd/enforcement-auditor/app"
)

// TestRunFlagDefaultsAreOptionsDefaults: every setting `run` leaves at its flag's default
// is the value app.Options takes when it is unset. The switches that only turn a section
// on are given (a section's settings exist only with it); everything else is default.
func TestRunFlagDefaultsAreOptionsDefaults(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "ea")
	cfg, rc, log := auditor.DefaultConfig(), &rest.Config{Host: "https://example.invalid"}, slog.New(slog.DiscardHandler)
	for name, args := range map[string][]string{
		"nothing set": nil,
		"every section on": {"--leader-elect", "--reports", "openreports", "--evidence-dir", t.TempDir(),
			"--probe-network", "--probe-admission", "--insecure-serving"},
	} {
		t.Run(name, func(t *testing.T) {
			f := &runFlags{}
			cmd := &cobra.Command{Use: "run"}
			f.register(cmd)
			require.NoError(t, cmd.ParseFlags(args))
			got, err := f.options(cfg, rc, log)
			require.NoError(t, err)

			// The same sections, every other setting unset.
			want := app.Options{Config: cfg, RESTConfig: rc, Logger: log,
				NetworkProbe: got.NetworkProbe, AdmissionProbe: got.AdmissionProbe, PodNamespace: got.PodNamespace,
				InsecureServing: got.InsecureServing, Evidence: app.EvidenceOptions{Dir: got.Evidence.Dir}}
			if got.LeaderElection != nil {
				want.LeaderElection = &app.LeaderElection{Namespace: got.LeaderElection.Namespace}
			}
			if got.Reports != nil {
				want.Reports = &app.ReportsOptions{API: got.Reports.API}
			}
			require.Equal(t, want.WithDefaults(), got)
			require.NoError(t, got.Validate(), "the defaults are valid")
		})
	}
}
