package sr3

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// budgetDBNotHAInProd: the CloudNativePG Cluster behind a prod proxy must run (and have
// ready) at least MinDatabaseInstances instances; a prod proxy with no Cluster found is
// reported too (medium), since its database's availability is then unproven.
func budgetDBNotHAInProd(cfg auditor.Config) check {
	min := int64(cfg.SR3.MinDatabaseInstances)
	meta := auditor.RuleMeta{
		ID: "budget-db-not-ha-in-prod", Control: auditor.SR3, Severity: auditor.SeverityHigh,
		Title: "LiteLLM prod budget database is not highly available",
		Pass:  "every LiteLLM prod budget database runs highly available",
		Remediation: fmt.Sprintf("Run the prod budget database on CloudNativePG with spec.instances >= %d "+
			"(kubectl -n <namespace> patch clusters.postgresql.cnpg.io <name> --type merge -p '{\"spec\":{\"instances\":%d}}'), "+
			"wait until status.readyInstances reaches it, and point general_settings.database_url / DATABASE_URL at the <cluster>-rw service. "+
			"For an external database, prove its HA separately and waive this finding with a reason.", min, min),
		Inputs: append(slices.Clone(proxyInputs), auditor.ResourceCNPGClusters),
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		res := v.result()
		avail := s.AvailabilityOf(auditor.ResourceCNPGClusters)
		clusters := map[string]cnpgCluster{}
		for _, u := range s.CustomObjects(cnpgGroup, "Cluster") {
			c := cnpgClusterView(u)
			clusters[nsKeyOf(c.Namespace, c.Name)] = c
		}
		// behind collects, per Cluster, the prod proxies that use it and how they were matched.
		behind := map[string][]string{}
		for _, lp := range v.prod {
			if lp.Conf == nil && lp.Unreadable == "" {
				continue
			}
			t := databaseTarget(lp.Conf, lp.Env)
			var matched []string
			inCluster := true
			if t.Known {
				name, ns, in := cnpgService(t.Host, lp.Namespace)
				inCluster = in
				if _, ok := clusters[nsKeyOf(ns, name)]; ok && name != "" {
					matched = append(matched, nsKeyOf(ns, name))
					behind[nsKeyOf(ns, name)] = append(behind[nsKeyOf(ns, name)], fmt.Sprintf("%s (database host %s from %s)", lp.describe(), t.Host, t.From))
				}
			}
			if len(matched) == 0 && inCluster {
				for k, c := range clusters {
					if c.Namespace == lp.Namespace {
						matched = append(matched, k)
						behind[k] = append(behind[k], fmt.Sprintf("%s (a Cluster in the proxy's namespace; %s)", lp.describe(), hostNote(t)))
					}
				}
			}
			if len(matched) > 0 {
				continue
			}
			reason, visible := noClusterReason(avail, t, lp.Namespace)
			if !visible {
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s: CloudNativePG Clusters are not visible (%s), so its database cannot be checked", lp.describe(), avail.State))
				continue
			}
			f := lp.finding(meta, fmt.Sprintf("prod LiteLLM proxy %s: %s. It may use an external database, whose availability the auditor cannot check",
				lp.describe(), reason))
			f.Severity = auditor.SeverityMedium
			f.Absent = []string{auditor.ResourceCNPGClusters}
			res.Findings = append(res.Findings, f)
		}
		keys := slices.Sorted(maps.Keys(behind))
		for _, k := range keys {
			c := clusters[k]
			problems := c.haProblems(min)
			if len(problems) == 0 {
				continue
			}
			res.Findings = append(res.Findings, meta.NewFinding(c.ref(), fmt.Sprintf(
				"CloudNativePG Cluster %s/%s holds the budget database of %s, and %s: one node or zone failure stops key and budget checks",
				c.Namespace, c.Name, strings.Join(behind[k], " and "), strings.Join(problems, "; "))))
		}
		return res
	}}
}

// noClusterReason says why no CloudNativePG Cluster stands behind a proxy of namespace
// ns whose database is t; visible is false when the Clusters cannot be seen.
func noClusterReason(avail auditor.Availability, t dbTarget, ns string) (reason string, visible bool) {
	switch avail.State {
	case auditor.Synced:
		return fmt.Sprintf("no CloudNativePG Cluster matches its database (%s) or runs in namespace %s", hostNote(t), ns), true
	case auditor.NotServed:
		msg := avail.Message
		if msg == "" {
			msg = "clusters.postgresql.cnpg.io is not served"
		}
		return fmt.Sprintf("CloudNativePG is not installed (%s; %s)", msg, hostNote(t)), true
	}
	return "", false
}

// haProblems says how the Cluster falls short of min instances, declared and ready.
func (c cnpgCluster) haProblems(min int64) []string {
	var problems []string
	switch {
	case c.InstancesErr != "":
		problems = append(problems, c.InstancesErr)
	case !c.InstancesSet:
		problems = append(problems, fmt.Sprintf("spec.instances is not set (the CRD defaults it to 1), below the %d prod requires", min))
	case c.Instances < min:
		problems = append(problems, fmt.Sprintf("spec.instances is %d, below the %d prod requires", c.Instances, min))
	}
	switch {
	case c.ReadyErr != "":
		problems = append(problems, c.ReadyErr)
	case c.ReadySet && c.Ready < min:
		problems = append(problems, fmt.Sprintf("status.readyInstances is %d, below %d", c.Ready, min))
	}
	return problems
}

func hostNote(t dbTarget) string {
	if t.Known {
		return fmt.Sprintf("database host %s from %s", t.Host, t.From)
	}
	return "database host unknown: " + t.Why
}
