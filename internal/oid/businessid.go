package oid

import (
	"fmt"
	"strconv"
)

// CheckBusinessID reports why s is not a Finnish business id (Y-tunnus,
// NNNNNNN-C with its check digit), or nil.
func CheckBusinessID(s string) error {
	if len(s) != 9 || s[7] != '-' {
		return fmt.Errorf("business id must be written NNNNNNN-C")
	}
	n, err := strconv.Atoi(s[:7])
	if err != nil || n < 0 {
		return fmt.Errorf("business id must be seven digits, a hyphen and a check digit")
	}
	c, err := strconv.Atoi(s[8:])
	if err != nil {
		return fmt.Errorf("business id check character must be a digit")
	}
	if want := BusinessIDCheck(n); want < 0 || want != c {
		return fmt.Errorf("business id check digit does not match")
	}
	return nil
}

// BusinessIDCheck computes the check digit of a 7-digit business id, or -1
// when no business id has these digits.
func BusinessIDCheck(n int) int {
	weights := []int{7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 6; i >= 0; i-- {
		sum += (n % 10) * weights[i]
		n /= 10
	}
	switch r := sum % 11; r {
	case 0:
		return 0
	case 1:
		return -1
	default:
		return 11 - r
	}
}
