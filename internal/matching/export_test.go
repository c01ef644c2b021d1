package matching

// MayRead is mayRead for a caller described in a word: self, lead, team,
// supported or anyone (signed in, no relation), for the table test.
func MayRead(audience, who string) bool {
	r := relation{Exists: true, SignedIn: true}
	switch who {
	case "self":
		r.Self = true
	case "lead":
		r.Lead = true
	case "team":
		r.Team = true
	case "supported":
		r.Supported = true
	}
	return mayRead(audience, r)
}
