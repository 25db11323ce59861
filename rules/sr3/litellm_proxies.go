package sr3

import (
	"fmt"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

func (lp *loadedProxy) finding(meta auditor.RuleMeta, msg string) auditor.Finding {
	f := meta.NewFinding(lp.Object(), msg)
	f.Discriminator = lp.Discriminator(lp.Shared)
	return f
}

// describe names the proxy for messages: its config, profile and who runs it.
func (lp *loadedProxy) describe() string {
	d := lp.Where()
	switch {
	case lp.Deploy != nil && lp.CM != nil:
		d += fmt.Sprintf(" (run by Deployment %s/%s", lp.Deploy.Namespace, lp.Deploy.Name)
		if lp.Chosen != "" {
			d += ", which loads it as named by " + lp.Chosen
		}
		d += ")"
	case lp.Via != "":
		d += " (" + lp.Via + ")"
	}
	return d
}

func at(v litellm.Value) string {
	if v.Line == 0 {
		return ""
	}
	return " (" + v.Position() + ")"
}
