package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// sourcedRule is a rule of a role; from names the ClusterRole it was aggregated from.
type sourcedRule struct {
	rule     rbacv1.PolicyRule
	from     *RoleRef
	fromRule int
}

func own(rules []rbacv1.PolicyRule) []sourcedRule {
	out := make([]sourcedRule, len(rules))
	for i, r := range rules {
		out[i] = sourcedRule{rule: r}
	}
	return out
}

// aggregate returns every ClusterRole's rules, those of a ClusterRole with an
// aggregationRule replaced by what the clusterrole-aggregation controller writes
// (kubernetes pkg/controller/clusterroleaggregation, syncClusterRole): for each selector
// in order, the ClusterRoles it selects sorted by name, itself excepted, their rules
// appended unless an equal rule is already there (equality.Semantic.DeepEqual). The
// controller reads the selected roles' stored rules, so an aggregated role that selects
// another aggregated role converges over several syncs: this repeats until nothing
// changes (at most once per ClusterRole). A selector that does not parse selects
// nothing, as the controller's sync fails.
func aggregate(crs []*rbacv1.ClusterRole) map[string][]sourcedRule {
	out := make(map[string][]sourcedRule, len(crs))
	var aggregated []*rbacv1.ClusterRole
	for _, cr := range crs {
		out[cr.Name] = own(cr.Rules)
		if cr.AggregationRule != nil {
			aggregated = append(aggregated, cr)
		}
	}
	if len(aggregated) == 0 {
		return out
	}
	byName := sortedBy(crs, func(c *rbacv1.ClusterRole) string { return c.Name })
	selectors := make(map[string][]labels.Selector, len(aggregated))
	for _, cr := range aggregated {
		for i := range cr.AggregationRule.ClusterRoleSelectors {
			sel, err := metav1.LabelSelectorAsSelector(&cr.AggregationRule.ClusterRoleSelectors[i])
			if err != nil {
				selectors[cr.Name] = nil
				break
			}
			selectors[cr.Name] = append(selectors[cr.Name], sel)
		}
	}
	for round := 0; round <= len(aggregated); round++ {
		changed := false
		for _, cr := range aggregated {
			var rules []sourcedRule
			for _, sel := range selectors[cr.Name] {
				for _, other := range byName {
					if other.Name == cr.Name || !sel.Matches(labels.Set(other.Labels)) {
						continue
					}
					for _, r := range out[other.Name] {
						if ruleExists(rules, r.rule) {
							continue
						}
						if r.from == nil {
							r = sourcedRule{rule: r.rule, from: &RoleRef{Kind: "ClusterRole", Name: other.Name}}
							r.fromRule = indexOf(out[other.Name], r.rule)
						}
						rules = append(rules, r)
					}
				}
			}
			if !sameRules(rules, out[cr.Name]) {
				out[cr.Name] = rules
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return out
}

func ruleExists(haystack []sourcedRule, needle rbacv1.PolicyRule) bool {
	for _, r := range haystack {
		if equality.Semantic.DeepEqual(r.rule, needle) {
			return true
		}
	}
	return false
}

func indexOf(rules []sourcedRule, r rbacv1.PolicyRule) int {
	for i := range rules {
		if equality.Semantic.DeepEqual(rules[i].rule, r) {
			return i
		}
	}
	return -1
}

func sameRules(a, b []sourcedRule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equality.Semantic.DeepEqual(a[i].rule, b[i].rule) {
			return false
		}
	}
	return true
}

// AggregatedRules is aggregate's rules of the ClusterRole name, as plain rules (what the
// controller stores in it): tests and the differential apply them to an API server that
// runs no controller manager.
func AggregatedRules(crs []*rbacv1.ClusterRole, name string) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, r := range aggregate(crs)[name] {
		out = append(out, r.rule)
	}
	return out
}
