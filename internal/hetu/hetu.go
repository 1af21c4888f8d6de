// Package hetu parses and validates Finnish personal identity codes
// (henkilötunnus) and organisation-issued temporary client identifiers.
//
// An identity code is sensitive personal data: nothing in this package puts
// the code itself into an error message, so errors are safe to log.
package hetu

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// OIDRoot is the OID under which identity codes are issued.
const OIDRoot = "1.2.246.21"

// checkChars indexes the remainder of DDMMYYZZZ modulo 31.
const checkChars = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// Rule codes of identity code errors; stable, part of the archive's error vocabulary.
const (
	RuleFormat     = "HETU_FORMAT"
	RuleCentury    = "HETU_CENTURY"
	RuleDate       = "HETU_DATE"
	RuleIndividual = "HETU_INDIVIDUAL"
	RuleChecksum   = "HETU_CHECKSUM"
)

// Error is a validation failure. It never contains the code being validated.
type Error struct {
	Rule    string
	Message string
}

func (e *Error) Error() string { return e.Rule + ": " + e.Message }

// Is makes errors.Is match on the rule code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Rule == e.Rule
}

// Errors to compare with errors.Is.
var (
	ErrFormat     = &Error{Rule: RuleFormat}
	ErrCentury    = &Error{Rule: RuleCentury}
	ErrDate       = &Error{Rule: RuleDate}
	ErrIndividual = &Error{Rule: RuleIndividual}
	ErrChecksum   = &Error{Rule: RuleChecksum}
)

// Code is a parsed, valid personal identity code.
type Code struct {
	raw        string
	Birth      time.Time // date of birth, UTC midnight
	Individual int       // ZZZ, 2..999
}

// String returns the code as written (canonical: upper case is required).
func (c Code) String() string { return c.raw }

// Temporary reports whether the individual number is in the 900–999 range
// reserved for temporary and test use.
func (c Code) Temporary() bool { return c.Individual >= 900 }

// Sex returns "male" for odd and "female" for even individual numbers,
// following the identity code's own convention.
func (c Code) Sex() string {
	if c.Individual%2 == 1 {
		return "male"
	}
	return "female"
}

// centuryOf maps a century sign to the first year of its century.
func centuryOf(sign byte) (int, bool) {
	switch sign {
	case '+':
		return 1800, true
	case '-', 'Y', 'X', 'W', 'V', 'U':
		return 1900, true
	case 'A', 'B', 'C', 'D', 'E', 'F':
		return 2000, true
	}
	return 0, false
}

// Parse validates s as a personal identity code: format DDMMYYCZZZQ, a known
// century sign (including the 2023 additions), a real calendar date, an
// individual number 002–999 and the check character.
func Parse(s string) (Code, error) {
	if len(s) != 11 {
		return Code{}, &Error{RuleFormat, fmt.Sprintf("identity code must be 11 characters DDMMYYCZZZQ, got %d", len(s))}
	}
	for i := 0; i < 11; i++ {
		if i == 6 || i == 10 {
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return Code{}, &Error{RuleFormat, fmt.Sprintf("identity code position %d must be a digit", i+1)}
		}
	}
	century, ok := centuryOf(s[6])
	if !ok {
		return Code{}, &Error{RuleCentury, "identity code century sign must be one of + - Y X W V U A B C D E F"}
	}
	day := atoi(s[0:2])
	month := atoi(s[2:4])
	year := century + atoi(s[4:6])
	birth := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || day < 1 || birth.Day() != day || birth.Month() != time.Month(month) {
		return Code{}, &Error{RuleDate, "identity code date of birth DDMMYY is not a calendar date"}
	}
	individual := atoi(s[7:10])
	if individual < 2 {
		return Code{}, &Error{RuleIndividual, "identity code individual number must be 002–999"}
	}
	want := checkChars[(atoi(s[0:6])*1000+individual)%31]
	if s[10] != want {
		return Code{}, &Error{RuleChecksum, "identity code check character does not match"}
	}
	return Code{raw: s, Birth: birth, Individual: individual}, nil
}

// Valid reports whether s is a valid identity code.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// CheckChar computes the check character for the nine digits DDMMYYZZZ.
// It panics on non-digit input; it is meant for generators.
func CheckChar(ddmmyy string, individual int) byte {
	if len(ddmmyy) != 6 || individual < 0 || individual > 999 {
		panic("hetu: CheckChar needs six digits and 0..999")
	}
	return checkChars[(atoi(ddmmyy)*1000+individual)%31]
}

// Make builds a valid identity code for a birth date, an individual number and
// a century sign, which must fit the birth year. Generators use it.
func Make(birth time.Time, individual int, sign byte) (string, error) {
	century, ok := centuryOf(sign)
	if !ok {
		return "", &Error{RuleCentury, "unknown century sign"}
	}
	if birth.Year() < century || birth.Year() >= century+100 {
		return "", &Error{RuleCentury, "century sign does not fit the birth year"}
	}
	if individual < 2 || individual > 999 {
		return "", &Error{RuleIndividual, "individual number must be 002–999"}
	}
	ddmmyy := fmt.Sprintf("%02d%02d%02d", birth.Day(), int(birth.Month()), birth.Year()%100)
	return fmt.Sprintf("%s%c%03d%c", ddmmyy, sign, individual, CheckChar(ddmmyy, individual)), nil
}

// Mask hides the individual part of a code for display ("200111A****").
// Operator logs must not carry even a masked code; this is for user interfaces.
func Mask(s string) string {
	if len(s) != 11 {
		return strings.Repeat("*", len(s))
	}
	return s[:7] + "****"
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
