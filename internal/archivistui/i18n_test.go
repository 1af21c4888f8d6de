package archivistui_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/arkisto/arkisto/internal/web"
)

// messageID matches the message ids the UI's templates and code name:
// string literals of the message families.
var messageID = regexp.MustCompile(`"((?:app|layout|nav|refused|notfound|choose|search|col|status|error|field|doc|sig|log|action|compare|nullify|reason)\.[a-zA-Z.]+)"`)

// TestEveryMessageTranslated fails when a template or the code names a
// message that some language lacks.
func TestEveryMessageTranslated(t *testing.T) {
	files, err := web.MessageFiles()
	if err != nil {
		t.Fatal(err)
	}
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("pages/*.html")
	layout, _ := filepath.Glob("../web/static/*.html")
	sources = append(append(sources, more...), layout...)
	used := map[string]string{}
	for _, f := range sources {
		if filepath.Ext(f) == ".go" && len(f) > 8 && f[len(f)-8:] == "_test.go" {
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
	if len(used) < 40 {
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
