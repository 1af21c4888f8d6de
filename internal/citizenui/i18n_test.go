package citizenui_test

import (
	"regexp"
	"testing"

	"github.com/arkisto/arkisto/internal/web"
	"github.com/arkisto/arkisto/internal/web/webtest"
)

// messageID matches the message ids the UI's templates and code name:
// string literals of the message families.
var messageID = regexp.MustCompile(`"((?:app|layout|cit)\.[a-zA-Z.-]*[a-zA-Z])"`)

// TestEveryMessageTranslated fails when a template or the code names a
// message that some language lacks.
func TestEveryMessageTranslated(t *testing.T) {
	webtest.EveryMessageTranslated(t, messageID, 80)
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
