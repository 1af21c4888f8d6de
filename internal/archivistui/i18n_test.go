package archivistui_test

import (
	"regexp"
	"testing"

	"github.com/arkisto/arkisto/internal/web/webtest"
)

// messageID matches the message ids the UI's templates and code name:
// string literals of the message families.
var messageID = regexp.MustCompile(`"((?:app|layout|nav|refused|notfound|choose|search|col|status|error|field|doc|sig|log|action|compare|nullify|reason)\.[a-zA-Z.]+)"`)

// TestEveryMessageTranslated fails when a template or the code names a
// message that some language lacks.
func TestEveryMessageTranslated(t *testing.T) {
	webtest.EveryMessageTranslated(t, messageID, 40)
}
