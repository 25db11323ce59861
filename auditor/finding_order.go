package auditor

// keyParts are the pieces Finding.Key concatenates.
func keyParts(f *Finding) (parts [11]string, n int) {
	if f.Environment != "" {
		parts[0], parts[1] = f.Environment, "||"
		n = 2
	}
	parts[n], parts[n+1] = f.Rule, "|"
	n += 2
	if f.Object != nil {
		parts[n], parts[n+1], parts[n+2], parts[n+3], parts[n+4] = f.Object.Kind, "|", f.Object.Namespace, "|", f.Object.Name
		n += 5
	}
	if f.Discriminator != "" {
		parts[n], parts[n+1] = "|", f.Discriminator
		n += 2
	}
	return parts, n
}

// compareKeys compares a.Key() and b.Key() byte by byte over their pieces.
func compareKeys(a, b *Finding) int {
	pa, na := keyParts(a)
	pb, nb := keyParts(b)
	i, j, oi, oj := 0, 0, 0, 0
	for {
		// Whole equal pieces at the same offset are the common case: skip them at once.
		if i < na && j < nb && oi == 0 && oj == 0 && pa[i] == pb[j] {
			i++
			j++
			continue
		}
		for i < na && oi == len(pa[i]) {
			i, oi = i+1, 0
		}
		for j < nb && oj == len(pb[j]) {
			j, oj = j+1, 0
		}
		switch {
		case i == na && j == nb:
			return 0
		case i == na:
			return -1
		case j == nb:
			return 1
		}
		ca, cb := pa[i][oi], pb[j][oj]
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		oi++
		oj++
	}
}
