// Package docs holds the project's documentation; its tests keep the
// documents true to the code.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var ruleCode = regexp.MustCompile(`^(CDA|XML|SIG|HETU|CLIENT|QUERY|NULLIFY|BODY|ACCESS|ORG|REGISTER|RELATIONSHIP|CONSENT|NOTICE)_[A-Z0-9_]+$|^CONFLICT$`)

// ruleCodes collects every rule code string in the non-test sources.
func ruleCodes(t *testing.T) map[string]string {
	t.Helper()
	found := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../internal", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && ruleCode.MatchString(s) {
					found[s] = path
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestEveryRuleCodeIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("document-format.md")
	if err != nil {
		t.Fatal(err)
	}
	codes := ruleCodes(t)
	if len(codes) < 50 {
		t.Fatalf("found only %d rule codes in the sources; the scan is broken", len(codes))
	}
	for code, where := range codes {
		if !strings.Contains(string(doc), "`"+code+"`") {
			t.Errorf("rule code %s (%s) is not documented in docs/document-format.md", code, where)
		}
	}
}

// TestAccessTableIsDocumented: every case of the access decision table is
// named in docs/access-rules.md with the rule it proves.
func TestAccessTableIsDocumented(t *testing.T) {
	tableIsDocumented(t, "../internal/archive/archivetest/access.go")
}

// TestDisclosureTableIsDocumented: every case of the disclosure decision
// table is named in docs/access-rules.md.
func TestDisclosureTableIsDocumented(t *testing.T) {
	tableIsDocumented(t, "../internal/archive/archivetest/disclosure.go")
}

func tableIsDocumented(t *testing.T, table string) {
	doc, err := os.ReadFile("access-rules.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`AccessCase\{Name: "([^"]+)"|\{Name: "([^"]+)", Do:`).FindAllStringSubmatch(string(src), -1)
	if len(names) < 20 {
		t.Fatalf("found only %d cases in the table; the scan is broken", len(names))
	}
	for _, m := range names {
		name := m[1] + m[2]
		if !strings.Contains(string(doc), "*"+name+"*") {
			t.Errorf("case %q of %s is not in docs/access-rules.md", name, table)
		}
	}
}
