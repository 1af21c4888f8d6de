package archivistui

// SetPageSize sets the results' page size and returns a func restoring it.
func SetPageSize(n int) func() {
	old := pageSize
	pageSize = n
	return func() { pageSize = old }
}
