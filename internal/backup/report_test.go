package backup

import "testing"

// TestReportString: counts with their nouns in the singular for one, and
// content in binary units (issue 17).
func TestReportString(t *testing.T) {
	for _, tt := range []struct {
		r    Report
		want string
	}{
		{Report{Documents: 1, ContentBytes: 10 << 10, LogEntries: 1}, "1 document, 10 KiB of content, 1 access-log entry checked"},
		{Report{Documents: 1200, ContentBytes: 12 << 20, LogEntries: 3}, "1,200 documents, 12 MiB of content, 3 access-log entries checked"},
		{Report{Documents: 1, LogEntries: 2, Wills: 1, Disclosures: 3}, "1 document, 0 B of content, 2 access-log entries, 1 will expression, 3 disclosure-log entries checked"},
	} {
		if got := tt.r.String(); len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
			t.Errorf("String() = %q, want it to start %q", got, tt.want)
		}
	}
}
