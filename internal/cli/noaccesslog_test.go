package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
)

// TestNoWayToRunWithoutAccessLog: neither the service's configuration nor
// any command of the shipped binary can turn the access log off, and the
// shipped binary has no benchmark server (cmd/arkisto-bench has it, with
// its own test of this name).
func TestNoWayToRunWithoutAccessLog(t *testing.T) {
	ct := reflect.TypeOf(archive.Config{})
	for i := range ct.NumField() {
		if f := ct.Field(i); strings.Contains(strings.ToLower(f.Name), "log") {
			t.Errorf("archive.Config has a field %s", f.Name)
		}
	}
	code, _, errs := run(t, "serve", "--without-access-log")
	if code == 0 || !strings.Contains(errs, "unknown flag: --without-access-log") {
		t.Errorf("serve: exit %d, %q; want unknown flag", code, errs)
	}
	code, _, errs = run(t, "bench", "server")
	if code == 0 || !strings.Contains(errs, `unknown command "bench"`) {
		t.Errorf("bench server: exit %d, %q; want an unknown command", code, errs)
	}
}
