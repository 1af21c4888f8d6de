package cda

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTS parses an HL7 V3 point in time, YYYY[MM[DD[HH[MM[SS[.F+]]]]]][±ZZZZ].
// A value with a time of day must carry its zone offset: without one the
// instant is unknown. Dates alone need no zone and are returned at midnight
// UTC. hasTime reports whether the value had a time of day.
func ParseTS(s string) (t time.Time, hasTime bool, err error) {
	digits := 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	frac := ""
	rest := s[digits:]
	if len(rest) > 0 && rest[0] == '.' {
		if digits != 14 {
			return time.Time{}, false, fmt.Errorf("fraction of a second needs a full YYYYMMDDHHMMSS before it")
		}
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 || i > 10 {
			return time.Time{}, false, fmt.Errorf("fraction of a second must have 1–9 digits")
		}
		frac, rest = rest[1:i], rest[i:]
	}
	zone := rest
	switch digits {
	case 4, 6, 8, 10, 12, 14:
	default:
		return time.Time{}, false, fmt.Errorf("time must be YYYYMMDD or YYYYMMDDHHMM[SS[.fff]]±ZZZZ")
	}
	n := func(a, b int, def int) int {
		if digits < b {
			return def
		}
		v, _ := strconv.Atoi(s[a:b])
		return v
	}
	year, month, day := n(0, 4, 0), n(4, 6, 1), n(6, 8, 1)
	hour, min, sec := n(8, 10, 0), n(10, 12, 0), n(12, 14, 0)
	nsec := 0
	if frac != "" {
		f := frac
		for len(f) < 9 {
			f += "0"
		}
		nsec, _ = strconv.Atoi(f)
	}
	hasTime = digits > 8
	loc := time.UTC
	switch {
	case zone == "" && hasTime:
		return time.Time{}, true, fmt.Errorf("time of day must carry its zone offset, as in 20260323105424+0200")
	case zone != "":
		// strconv.Atoi accepts a sign, so check the four digits first:
		// "+-1-1" is not an offset.
		if len(zone) != 5 || (zone[0] != '+' && zone[0] != '-') || strings.Trim(zone[1:], "0123456789") != "" {
			return time.Time{}, hasTime, fmt.Errorf("zone offset must be ±HHMM")
		}
		zh, err1 := strconv.Atoi(zone[1:3])
		zm, err2 := strconv.Atoi(zone[3:5])
		if err1 != nil || err2 != nil || zh > 14 || zm > 59 {
			return time.Time{}, hasTime, fmt.Errorf("zone offset must be ±HHMM")
		}
		off := zh*3600 + zm*60
		if zone[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	if month < 1 || month > 12 || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, hasTime, fmt.Errorf("time has a field out of range")
	}
	t = time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc)
	if t.Day() != day {
		return time.Time{}, hasTime, fmt.Errorf("time is not a calendar date")
	}
	return t, hasTime, nil
}

// FormatTS writes t as an HL7 TS with seconds and zone offset.
func FormatTS(t time.Time) string { return t.Format("20060102150405-0700") }
