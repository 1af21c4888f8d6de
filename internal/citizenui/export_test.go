package citizenui

// SetMaxPendingLogins sets the bound for a test and returns the old one.
func SetMaxPendingLogins(n int) int {
	old := MaxPendingLogins
	MaxPendingLogins = n
	return old
}
