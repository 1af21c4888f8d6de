// Package fitime is Finnish civil time: the one place that knows the
// Europe/Helsinki zone. Dates in documents, grant periods and search
// parameters without a zone are Finnish dates.
package fitime

import (
	"time"
	_ "time/tzdata" // the zone never depends on the host's time-zone database
)

// Location is Europe/Helsinki.
var Location = func() *time.Location {
	l, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		// Cannot happen with time/tzdata embedded.
		panic("fitime: " + err.Error())
	}
	return l
}()

// Day is t's calendar day in Finland, as midnight UTC.
func Day(t time.Time) time.Time {
	y, m, d := t.In(Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
