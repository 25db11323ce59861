package sr2

import (
	"regexp"
	"strings"
)

// Whether a gate's check covers a GPU resource is judged from the check's text (Kyverno
// pattern keys, deny conditions, CEL expressions): policies are programs, and the auditor
// does not evaluate them. A resource counts as named when it appears as a whole token, or
// when a prefix of it appears as a wildcard (`nvidia.com/*`, `nvidia.com/mig-*`) or as the
// argument of startsWith / starts_with.

var (
	// wildcardTokenRE finds "<prefix>*" tokens that contain a slash, e.g. nvidia.com/mig-*.
	wildcardTokenRE = regexp.MustCompile(`([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]*)\*`)
	// startsWithRE finds CEL startsWith('x') and JMESPath starts_with(@, 'x') prefixes.
	startsWithRE = regexp.MustCompile("(?i)starts_?with\\s*\\((?:[^'\"`()]*,\\s*)?['\"`]([^'\"`]+)['\"`]")
)

func isNameChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '-' || b == '_' || b == '/'
}

// containsToken reports whether tok occurs in s not followed by another name character,
// so "nvidia.com/mig-" in "nvidia.com/mig-*" counts but in "nvidia.com/mig-1g.10gb" does not.
func containsToken(s, tok string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], tok)
		if j < 0 {
			return false
		}
		end := i + j + len(tok)
		if end == len(s) || !isNameChar(s[end]) {
			return true
		}
		i += j + 1
	}
}

// textPrefixes returns the wildcard and starts-with prefixes in the text.
func textPrefixes(text []string) []string {
	var out []string
	for _, t := range text {
		for _, m := range wildcardTokenRE.FindAllStringSubmatch(t, -1) {
			out = append(out, m[1])
		}
		for _, m := range startsWithRE.FindAllStringSubmatch(t, -1) {
			if len(m[1]) >= 3 {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// textNames reports whether the text names a resource or label exactly, or through a prefix.
func textNames(text []string, name string) bool {
	for _, t := range text {
		if containsToken(t, name) {
			return true
		}
	}
	for _, p := range textPrefixes(text) {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// gpuResourcesMissed returns the configured GPU resources (exact names, or prefix patterns
// ending in *) the text does not cover. A check that names no GPU resource and no
// resources/limits/requests at all is resource-agnostic (it gates every pod) and misses none.
func gpuResourcesMissed(text []string, resources []string) []string {
	var missed []string
	mentionsAny := len(textPrefixes(text)) > 0
	for _, r := range resources {
		name := strings.TrimSuffix(r, "*")
		if textNames(text, name) {
			mentionsAny = true
			continue
		}
		missed = append(missed, r)
	}
	if !mentionsAny && !mentionsResources(text) {
		return nil
	}
	return missed
}

func mentionsResources(text []string) bool {
	for _, t := range text {
		for _, w := range []string{"resources", "limits", "requests"} {
			if strings.Contains(t, w) {
				return true
			}
		}
	}
	return false
}
