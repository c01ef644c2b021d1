package recovery

// SetMaxDue shortens the list of reviews due for a test, and returns how
// to put it back.
func SetMaxDue(n int) func() {
	old := maxDue
	maxDue = n
	return func() { maxDue = old }
}
