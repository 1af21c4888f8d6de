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

// TestLogLevelDefault: --help tells the default log level the commands
// use (issue 17: it said warn while serve and demo logged at info).
func TestLogLevelDefault(t *testing.T) {
	for cmd, want := range map[string]string{"serve": "info", "demo": "info", "archive": "warn", "init": "warn", "validate": "warn"} {
		if got := defaultLogLevel(cmd); got != want {
			t.Errorf("default log level of %s = %s, want %s", cmd, got, want)
		}
	}
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"demo", "--help"}} {
		code, out, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errs)
		}
		if !strings.Contains(out, "--log-level string") || !strings.Contains(out, "(default: info for serve and demo, warn for the rest)") || strings.Contains(out, `(default "warn")`) {
			t.Errorf("%v does not say the log level defaults as they are:\n%s", args, out)
		}
	}
	// A bad level names the flag.
	if code, _, errs := run(t, "--log-level", "loud", "validate", "x.xml"); code == 0 || !strings.Contains(errs, "--log-level: must be debug, info, warn or error") {
		t.Errorf("--log-level loud: exit %d, %q", code, errs)
	}
}
