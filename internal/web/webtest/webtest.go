// Package webtest holds checks every web door built on internal/web runs
// from its own tests.
package webtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/web"
)

// EveryMessageTranslated fails when the door's code (the non-test .go
// files of the package under test), its templates (pages/*.html) or the
// shared layout name a message id, matched by messageID's first group,
// that some language lacks. min guards the pattern: fewer ids found than
// that means it matches nothing it should.
func EveryMessageTranslated(t *testing.T, messageID *regexp.Regexp, min int) {
	t.Helper()
	files, err := web.MessageFiles()
	if err != nil {
		t.Fatal(err)
	}
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	pages, _ := filepath.Glob("pages/*.html")
	layout, _ := filepath.Glob("../web/static/*.html")
	sources = append(append(sources, pages...), layout...)
	used := map[string]string{}
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range messageID.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = f
		}
	}
	if len(used) < min {
		t.Fatalf("found only %d message ids in %v: is the pattern right?", len(used), sources)
	}
	for id, f := range used {
		for lang, m := range files {
			if m[id] == "" {
				t.Errorf("%s names message %q, which %s lacks", f, id, lang)
			}
		}
	}
}
