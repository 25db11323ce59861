package evidence

import (
	"encoding/base64"
	"fmt"
	"sort"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Link is one verified document of a series and the name it was read from.
type Link struct {
	Name        string
	Attestation *Attestation
}

// CheckChain checks that links, given in file-name order, form one hash chain: ordered
// by the signed generatedAt, each document's previous is the digest of the one before.
// A missing document (a gap), a replaced one or files out of order is an error naming
// the documents. The first document may link to one pruned from the series.
func CheckChain(links []Link) error {
	byTime := append([]Link(nil), links...)
	sort.SliceStable(byTime, func(i, j int) bool {
		return byTime[i].Attestation.Statement.Predicate.GeneratedAt.Before(byTime[j].Attestation.Statement.Predicate.GeneratedAt)
	})
	for i := range links {
		if links[i].Name != byTime[i].Name {
			return fmt.Errorf("%s and %s are out of order: file names and signed generatedAt times disagree", links[i].Name, byTime[i].Name)
		}
	}
	for i := 1; i < len(byTime); i++ {
		prev, cur := byTime[i-1], byTime[i]
		if got := cur.Attestation.Statement.Predicate.Previous; got != prev.Attestation.Digest {
			return fmt.Errorf("chain broken between %s and %s: %s links to %q but %s is %s (a document between them is missing or was replaced)",
				prev.Name, cur.Name, cur.Name, got, prev.Name, prev.Attestation.Digest)
		}
	}
	return nil
}
