package citizenui_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/arkisto/arkisto/internal/web"
)

// messageID matches the message ids the UI's templates and code name:
// string literals of the message families.
var messageID = regexp.MustCompile(`"((?:app|layout|cit)\.[a-zA-Z.-]*[a-zA-Z])"`)

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
	if len(used) < 80 {
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

// TestDynamicMessagesTranslated: the message ids the code builds from
// actions and kinds exist in every language.
func TestDynamicMessagesTranslated(t *testing.T) {
	files, err := web.MessageFiles()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range []string{"archive", "read", "search", "history", "nullify", "will-record", "will-read", "will-withdraw", "log-read", "disclosure-read"} {
		ids = append(ids, "cit.action."+a)
	}
	for _, k := range []string{"notice", "consent", "prohibition"} {
		ids = append(ids, "cit.kind."+k)
	}
	for _, d := range []string{"notice", "consent", "withdraw", "prohibit"} {
		ids = append(ids, "cit.consents.done."+d)
	}
	for _, id := range ids {
		for lang, m := range files {
			if m[id] == "" {
				t.Errorf("%s lacks %q", lang, id)
			}
		}
	}
}
