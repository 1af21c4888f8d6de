package fitime

import (
	"testing"
	"time"
)

func TestDay(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 3, 22, 22, 30, 0, 0, time.UTC), "2026-03-23"}, // 00:30 in Finland (EET)
		{time.Date(2026, 7, 1, 20, 59, 0, 0, time.UTC), "2026-07-01"},  // 23:59 in Finland (EEST)
		{time.Date(2026, 7, 1, 21, 0, 0, 0, time.UTC), "2026-07-02"},
	} {
		if got := Day(tc.in).Format("2006-01-02"); got != tc.want {
			t.Errorf("Day(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
