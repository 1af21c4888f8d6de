package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/hetu"
)

// TestGuardians: admin guardian add, list and remove; every bad input is
// refused naming the flag and the rule and changes nothing; the operator's
// log (stderr, at info) never carries an identity code.
func TestGuardians(t *testing.T) {
	data := t.TempDir()
	mustInit(t, "--data", data)
	r := func(args ...string) (int, string, string) {
		return run(t, append([]string{"--data", data, "--log-level", "info"}, args...)...)
	}
	code := func(birth time.Time, n int) string {
		sign := byte('-')
		if birth.Year() >= 2000 {
			sign = 'A'
		}
		c, err := hetu.Make(birth, n, sign)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := time.Now().UTC()
	guardian := code(time.Date(1984, 4, 4, 0, 0, 0, 0, time.UTC), 902)
	child := code(time.Date(now.Year()-9, 5, 5, 0, 0, 0, 0, time.UTC), 904)
	adult := code(time.Date(now.Year()-30, 1, 1, 0, 0, 0, 0, time.UTC), 906)
	codes := []string{guardian, child, adult}
	noCodes := func(what, s string) {
		t.Helper()
		for _, c := range codes {
			if strings.Contains(s, c) {
				t.Errorf("%s carries an identity code:\n%s", what, s)
			}
		}
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--guardian", "010180-123X", "--child", child}, "--guardian: the guardian is named by a valid personal identity code (GUARDIAN_IDENTITY_CODE)"},
		{[]string{"--guardian", guardian, "--child", "nope"}, "--child: the child is named by a valid personal identity code (GUARDIAN_IDENTITY_CODE)"},
		{[]string{"--guardian", guardian, "--child", adult}, "--child: guardianship is of a minor only"},
		{[]string{"--guardian", child, "--child", child}, "--child: a guardian and the child are two persons (GUARDIAN_SELF)"},
	} {
		c, out, errs := r(append([]string{"admin", "guardian", "add"}, bad.args...)...)
		if c != 2 || !strings.Contains(errs, bad.want) {
			t.Errorf("add %v: exit %d, %s%s; want %q", bad.args, c, out, errs, bad.want)
		}
		noCodes("the refusal", errs)
	}
	if _, out, _ := r("admin", "guardian", "list", "--all"); strings.Count(out, "\n") != 1 {
		t.Errorf("refused guardianships were recorded:\n%s", out)
	}
	c, out, errs := r("admin", "guardian", "add", "--guardian", guardian, "--child", child, "--child-name", "Testi Lapsi")
	if c != 0 || !strings.Contains(out, guardian+" is a guardian of "+child) {
		t.Fatalf("add: exit %d %s%s", c, out, errs)
	}
	if !strings.Contains(errs, "guardianship added") {
		t.Errorf("the operator's log does not have the addition:\n%s", errs)
	}
	noCodes("the operator's log", errs)
	if c, _, errs := r("admin", "guardian", "add", "--guardian", guardian, "--child", child); c != 2 || !strings.Contains(errs, "already") {
		t.Errorf("adding twice: exit %d %s", c, errs)
	}
	_, out, _ = r("admin", "guardian", "list", "--guardian", guardian)
	if !strings.Contains(out, child) || !strings.Contains(out, "Testi Lapsi") {
		t.Errorf("list:\n%s", out)
	}
	if c, _, errs := r("admin", "guardian", "list", "--child", "x"); c != 2 || !strings.Contains(errs, "--child") {
		t.Errorf("list with a bad code: %d %s", c, errs)
	}
	c, out, errs = r("admin", "guardian", "remove", "--guardian", guardian, "--child", child)
	if c != 0 || !strings.Contains(out, "no longer") {
		t.Fatalf("remove: exit %d %s%s", c, out, errs)
	}
	noCodes("the operator's log", errs)
	c, _, errs = r("admin", "guardian", "remove", "--guardian", guardian, "--child", child)
	if c != 2 || !strings.Contains(errs, "--guardian: the person is not a guardian of the child") {
		t.Errorf("removing twice: exit %d %s", c, errs)
	}
	noCodes("the refusal", errs)
	if _, out, _ := r("admin", "guardian", "list"); strings.Contains(out, child) {
		t.Errorf("an ended guardianship is listed as in force:\n%s", out)
	}
	_, out, _ = r("admin", "guardian", "list", "--all", "--json")
	var rows []map[string]string
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0]["until"] == "-" || rows[0]["child"] != child {
		t.Errorf("the ended guardianship is not kept: %v %s", err, out)
	}
}
