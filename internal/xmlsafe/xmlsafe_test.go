package xmlsafe

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/problem"
)

// one checks that err is a problem.List of exactly one problem at "/" with
// the code, and returns it.
func one(t *testing.T, err error, code string) problem.Problem {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want %s", code)
	}
	var l problem.List
	if !errors.As(err, &l) {
		t.Fatalf("error %T %v is not a problem.List", err, err)
	}
	if len(l) != 1 || l[0].Code != code || l[0].Path != "/" || l[0].Message == "" {
		t.Fatalf("problems %v, want one %s at /", l, code)
	}
	return l[0]
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		lim      Limits
		root     string // root element's full tag
	}{
		{"minimal", `<a/>`, Limits{}, "a"},
		{"declaration", `<?xml version="1.0" encoding="UTF-8"?><a/>`, Limits{}, "a"},
		{"lower-case utf-8", `<?xml version="1.0" encoding="utf-8"?><a/>`, Limits{}, "a"},
		{"UTF-8 byte order mark", "\xEF\xBB\xBF<?xml version=\"1.0\"?><a/>", Limits{}, "a"},
		{"comments and processing instructions around the root", "<!-- c --><?pi x?>\r\n<a/>\r\n<!-- d -->", Limits{}, "a"},
		{"namespaces", `<p:a xmlns:p="urn:p" xmlns="urn:d"><b p:x="1" xml:lang="fi"><p:c/></b></p:a>`, Limits{}, "p:a"},
		{"prefix declared on the element itself", `<a><p:b xmlns:p="urn:p" p:x="1"/></a>`, Limits{}, "a"},
		{"same local name in two namespaces", `<a xmlns:p="urn:p" x="1" p:x="2"/>`, Limits{}, "a"},
		{"same local name under two prefixes of two namespaces", `<a xmlns:p="urn:p" xmlns:q="urn:q" p:x="1" q:x="2" xml:x="3"/>`, Limits{}, "a"},
		{"two prefixes of one namespace, two local names", `<a xmlns:p="urn:p" xmlns:q="urn:p" p:x="1" q:y="2"/>`, Limits{}, "a"},
		{"predefined entities and character references", `<a b="&quot;&#65;">&amp;&lt;&gt;&apos;&#x42;</a>`, Limits{}, "a"},
		{"CDATA", `<a><![CDATA[<not>&markup;]]></a>`, Limits{}, "a"},
		{"exactly MaxBytes", `<abc/>`, Limits{MaxBytes: 6}, "abc"},
		{"exactly MaxDepth", `<a><b><c/></b></a>`, Limits{MaxDepth: 3}, "a"},
		{"inert DOCTYPE when allowed", `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd"><html xmlns="http://www.w3.org/1999/xhtml"/>`, Limits{AllowDoctype: true}, "html"},
		{"DOCTYPE html when allowed", "<!DOCTYPE html>\n<html/>", Limits{AllowDoctype: true}, "html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.in), tt.lim)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if doc.Root() == nil || doc.Root().FullTag() != tt.root {
				t.Fatalf("root %v, want %s", doc.Root(), tt.root)
			}
		})
	}
}

func TestParseKeepsText(t *testing.T) {
	doc, err := Parse([]byte(`<a b="&quot;&#65;">&amp;&lt;&gt;&apos;&#x42;<![CDATA[&x;]]></a>`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Root().Text(); got != `&<>'B&x;` {
		t.Errorf("text %q", got)
	}
	if got := doc.Root().SelectAttrValue("b", ""); got != `"A` {
		t.Errorf("attribute %q", got)
	}
}

// TestParseRules breaks each rule.
func TestParseRules(t *testing.T) {
	tests := []struct {
		name, in string
		lim      Limits
		code     string
	}{
		{"one byte over MaxBytes", `<abcd/>`, Limits{MaxBytes: 6}, RuleTooLarge},
		{"over the default size", "<a>" + strings.Repeat(" ", DefaultMaxBytes) + "</a>", Limits{}, RuleTooLarge},

		{"empty", ``, Limits{}, RuleMalformed},
		{"only whitespace", " \r\n", Limits{}, RuleMalformed},
		{"unclosed", `<a>`, Limits{}, RuleMalformed},
		{"mismatched end tag", `<a></b>`, Limits{}, RuleMalformed},
		{"mismatched prefix on end tag", `<p:a xmlns:p="u" xmlns:q="u"></q:a>`, Limits{}, RuleMalformed},
		{"crossed elements", `<a><b></a></b>`, Limits{}, RuleMalformed},
		{"two roots", `<a/><b/>`, Limits{}, RuleMalformed},
		{"text before the root", `x<a/>`, Limits{}, RuleMalformed},
		{"markdown with an entity (not XML)", "# Title\n\nA &nbsp; B <b>c</b>", Limits{}, RuleMalformed},
		{"text after the root", `<a/>x`, Limits{}, RuleMalformed},
		{"duplicate attribute", `<a x="1" x="2"/>`, Limits{}, RuleMalformed},
		{"duplicate attribute among many", `<a` + manyAttrs(20) + ` a7="x"/>`, Limits{}, RuleMalformed},
		{"duplicate prefixed attribute", `<a xmlns:p="u" p:x="1" p:x="2"/>`, Limits{}, RuleMalformed},
		{"one name in one namespace under two prefixes", `<a xmlns:p="u" xmlns:q="u" p:x="1" q:x="2"/>`, Limits{}, RuleMalformed},
		{"one name in one namespace, the second prefix declared above", `<a xmlns:q="u"><b xmlns:p="u" q:x="1" y="0" p:x="2"/></a>`, Limits{}, RuleMalformed},
		{"one name in the xml namespace under another prefix", `<a xmlns:p="http://www.w3.org/XML/1998/namespace" xml:lang="fi" p:lang="sv"/>`, Limits{}, RuleMalformed},
		{"one name in one namespace among many", `<a xmlns:p="u" xmlns:q="u" p:x="1"` + manyAttrs(20) + ` p:y="1" p:z="1" p:w="1" q:x="2"/>`, Limits{}, RuleMalformed},
		{"duplicate namespace declaration", `<a xmlns:p="u" xmlns:p="v"/>`, Limits{}, RuleMalformed},
		{"duplicate ID deep inside", `<a><b><c ID="1" ID="2"/></b></a>`, Limits{}, RuleMalformed},
		{"undeclared element prefix", `<p:a/>`, Limits{}, RuleMalformed},
		{"undeclared element prefix deep inside", `<a xmlns:q="u"><b><p:c/></b></a>`, Limits{}, RuleMalformed},
		{"prefix declared on a sibling only", `<a><b xmlns:p="u"/><p:c/></a>`, Limits{}, RuleMalformed},
		{"undeclared attribute prefix", `<a p:x="1"/>`, Limits{}, RuleMalformed},
		{"undeclared attribute prefix among many", `<a` + manyAttrs(20) + ` p:x="1"/>`, Limits{}, RuleMalformed},
		{"invalid UTF-8", "<a>\xff</a>", Limits{}, RuleMalformed},
		{"NUL character reference", `<a>&#0;</a>`, Limits{}, RuleMalformed},
		{"unquoted attribute", `<a x=1/>`, Limits{}, RuleMalformed},
		{"< in attribute", `<a x="<"/>`, Limits{}, RuleMalformed},
		{"XML 1.1", `<?xml version="1.1"?><a/>`, Limits{}, RuleMalformed},

		{"DOCTYPE", `<!DOCTYPE a><a/>`, Limits{}, RuleDTD},
		{"DOCTYPE with external id", `<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>`, Limits{}, RuleDTD},
		{"internal subset", `<!DOCTYPE a [<!ELEMENT a ANY>]><a/>`, Limits{}, RuleDTD},
		{"internal subset even with AllowDoctype", `<!DOCTYPE a [<!ELEMENT a ANY>]><a/>`, Limits{AllowDoctype: true}, RuleDTD},
		{"entity declaration even with AllowDoctype", `<!DOCTYPE a [<!ENTITY e "x">]><a/>`, Limits{AllowDoctype: true}, RuleDTD},
		{"parameter entity even with AllowDoctype", `<!DOCTYPE a [<!ENTITY % p SYSTEM "http://example.org/x.dtd"> %p;]><a/>`, Limits{AllowDoctype: true}, RuleDTD},
		{"ENTITY declaration outside a DOCTYPE", `<!ENTITY e "x"><a/>`, Limits{AllowDoctype: true}, RuleDTD},
		{"DOCTYPE inside the root", `<a><!DOCTYPE b></a>`, Limits{AllowDoctype: true}, RuleDTD},
		{"declaration deep inside", `<a><b><!ELEMENT c ANY></b></a>`, Limits{}, RuleDTD},
		{"DOCTYPE after the root", `<a/><!DOCTYPE a>`, Limits{AllowDoctype: true}, RuleDTD},
		{"two DOCTYPEs", `<!DOCTYPE a><!DOCTYPE a><a/>`, Limits{AllowDoctype: true}, RuleDTD},

		{"undefined entity", `<a>&foo;</a>`, Limits{}, RuleEntity},
		{"undefined entity in an attribute", `<a b="&foo;"/>`, Limits{}, RuleEntity},
		{"HTML entity", `<a>&nbsp;</a>`, Limits{}, RuleEntity},
		{"unescaped ampersand", `<a>Matti & Maija</a>`, Limits{}, RuleEntity},
		{"entity defined in the DTD is still undefined", `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, Limits{AllowDoctype: true}, RuleEntity},
		{"billion laughs", `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>`, Limits{AllowDoctype: true}, RuleEntity},
		{"external entity", `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`, Limits{AllowDoctype: true}, RuleEntity},

		{"one deeper than MaxDepth", `<a><b><c><d/></c></b></a>`, Limits{MaxDepth: 3}, RuleTooDeep},
		{"deeper than the default", strings.Repeat("<a>", DefaultMaxDepth+1) + strings.Repeat("</a>", DefaultMaxDepth+1), Limits{}, RuleTooDeep},

		{"ISO-8859-1", `<?xml version="1.0" encoding="ISO-8859-1"?><a>` + "\xe4" + `</a>`, Limits{}, RuleEncoding},
		{"windows-1252", `<?xml version="1.0" encoding="windows-1252"?><a/>`, Limits{}, RuleEncoding},
		{"UTF-16 declared", `<?xml version="1.0" encoding="UTF-16"?><a/>`, Limits{}, RuleEncoding},
		{"UTF8 without the hyphen", `<?xml version="1.0" encoding="UTF8"?><a/>`, Limits{}, RuleEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.in), tt.lim)
			one(t, err, tt.code)
			if doc != nil {
				t.Error("a document returned with an error")
			}
			// Wellformed refuses the same document under the same rule.
			ns, err := Wellformed([]byte(tt.in), tt.lim)
			one(t, err, tt.code)
			if ns != "" {
				t.Errorf("Wellformed returned namespace %q with an error", ns)
			}
		})
	}
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, ` a%d="%d"`, i, i)
	}
	return b.String()
}

// TestDeepNesting: a million nested elements are refused at the default
// limit without exhausting the stack or building the tree, and a document
// exactly as deep as a raised limit is walked without recursion.
func TestDeepNesting(t *testing.T) {
	const n = 1_000_000
	deep := []byte(strings.Repeat("<a>", n) + strings.Repeat("</a>", n))
	start := time.Now()
	// The markup limit alone would refuse this; lift it to test depth.
	one(t, errOnly(Parse(deep, Limits{MaxMarkup: 3 * n})), RuleTooDeep)
	one(t, errOnly(Parse(deep, Limits{MaxDepth: n - 1, MaxMarkup: 3 * n})), RuleTooDeep)
	one(t, errOnly(Parse(deep, Limits{})), RuleTooLarge)
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("refusing took %v", el)
	}
	// The parser stops at the limit instead of building the whole tree
	// first: a million elements would take over a million allocations.
	if a := testing.AllocsPerRun(1, func() { _, _ = Parse(deep, Limits{MaxMarkup: 3 * n}) }); a > 10_000 {
		t.Errorf("refusing allocated %.0f times", a)
	}

	const m = 100_000
	doc, err := Parse([]byte(strings.Repeat("<a>", m)+strings.Repeat("</a>", m)), Limits{MaxDepth: m, MaxMarkup: 3 * m})
	if err != nil {
		t.Fatalf("%d deep with MaxDepth %d: %v", m, m, err)
	}
	depth := 0
	for e := doc.Root(); e != nil; e = e.SelectElement("a") {
		depth++
	}
	if depth != m {
		t.Errorf("depth %d, want %d", depth, m)
	}
	// a document exactly at a limit is accepted, and one level more is not,
	// also when the deepest element is not the first child
	wide := `<a><b/><b><c/><c><d/></c></b></a>`
	if _, err := Parse([]byte(wide), Limits{MaxDepth: 4}); err != nil {
		t.Errorf("depth 4 with MaxDepth 4: %v", err)
	}
	one(t, errOnly(Parse([]byte(wide), Limits{MaxDepth: 3})), RuleTooDeep)
}

func errOnly(_ *etree.Document, err error) error { return err }

// TestLimitsDefaults: zero and negative limits mean the defaults.
func TestLimitsDefaults(t *testing.T) {
	for _, lim := range []Limits{{}, {MaxBytes: -1, MaxDepth: -1}} {
		got := lim.withDefaults()
		if got.MaxBytes != DefaultMaxBytes || got.MaxDepth != DefaultMaxDepth {
			t.Errorf("%+v.withDefaults() = %+v", lim, got)
		}
	}
	in := strings.Repeat("<a>", DefaultMaxDepth) + strings.Repeat("</a>", DefaultMaxDepth)
	if _, err := Parse([]byte(in), Limits{MaxDepth: -5}); err != nil {
		t.Errorf("%d deep with the default limit: %v", DefaultMaxDepth, err)
	}
}

// TestMessagesDoNotQuoteContent: the decoder quotes an undefined entity
// reference or a bad name as written. Problem messages end up in logs and
// must not carry document text such as a name or an identity code.
func TestMessagesDoNotQuoteContent(t *testing.T) {
	const secret = "200111A904P"
	for _, in := range []string{
		`<a id="&` + secret + `"/>`,
		`<a>Matti&` + secret + ` Virtanen</a>`,
		`<a>&` + secret + `;</a>`,
		`<a>&Virtanen` + secret + `;</a>`,
		`<a><` + secret + `/></a>`,
		`<a><b>` + secret + `</c></a>`,
		`<a>` + secret + `<</a>`,
		`<a><!DOCTYPE ` + secret + `></a>`,
		`<` + secret + `:a/>`,
		`<a ` + secret + `/>`,
	} {
		_, err := Parse([]byte(in), Limits{})
		if err == nil {
			t.Errorf("%q accepted", in)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "Virtanen") {
			t.Errorf("%q: message quotes the content: %v", in, err)
		}
	}
}

// TestProblems: Problems returns a problem list as is, and wraps anything
// else as XML_MALFORMED.
func TestProblems(t *testing.T) {
	_, err := Parse([]byte(`<a>&x;</a>`), Limits{})
	if p := Problems(err); len(p) != 1 || p[0].Code != RuleEntity {
		t.Errorf("Problems(parse error) = %v", p)
	}
	p := Problems(fmt.Errorf("wrapped: %w", err))
	if len(p) != 1 || p[0].Code != RuleEntity {
		t.Errorf("Problems(wrapped) = %v", p)
	}
	p = Problems(errors.New("boom"))
	if len(p) != 1 || p[0].Code != RuleMalformed || p[0].Path != "/" || p[0].Message != "boom" {
		t.Errorf("Problems(other) = %v", p)
	}
}

// TestManyAttributesLinear: duplicate and namespace checks must not cost
// time quadratic in the number of attributes. Before they were made linear,
// the 2 MB inputs here took minutes.
func TestManyAttributesLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	const n = 90_000 // under the markup limit, far over what quadratic checks survive
	var b bytes.Buffer
	b.WriteString(`<r xmlns:p="urn:p"`)
	b.WriteString(manyAttrs(n))
	b.WriteString(">")
	b.WriteString(strings.Repeat(`<p:x p:y="1"/>`, n))
	b.WriteString("</r>")
	start := time.Now()
	if _, err := Parse(b.Bytes(), Limits{}); err != nil {
		t.Fatal(err)
	}
	// the same with a duplicate at the very end is still found
	dup := append([]byte(`<r`+manyAttrs(n)), ` a0="x"/>`...)
	one(t, errOnly(Parse(dup, Limits{})), RuleMalformed)
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("parsing took %v", el)
	}
}

// TestSampleDisplayForms parses the decoded display forms of the public
// samples as the CDA reader does.
// TestWellformedAccepts: Wellformed accepts what Parse accepts and finds
// the root element's namespace however it is declared.
func TestWellformedAccepts(t *testing.T) {
	tests := []struct{ in, ns string }{
		{`<a/>`, ""},
		{`<a xmlns="urn:d"><b/></a>`, "urn:d"},
		{`<p:a xmlns:p="urn:p" xmlns="urn:d"><b p:x="1" xml:lang="fi"/></p:a>`, "urn:p"},
		{"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c --><a xmlns=\"urn:d\">t&amp;&#65;<![CDATA[<x>]]></a>\n", "urn:d"},
		{`<a xmlns:p="urn:p"><p:b><c xmlns:p="urn:q"><p:d/></c></p:b></a>`, ""},
		{`<a` + manyAttrs(20) + `/>`, ""},
	}
	for _, tt := range tests {
		if _, err := Parse([]byte(tt.in), Limits{AllowDoctype: true}); err != nil {
			t.Fatalf("Parse refuses %q: %v", tt.in, err)
		}
		ns, err := Wellformed([]byte(tt.in), Limits{AllowDoctype: true})
		if err != nil || ns != tt.ns {
			t.Errorf("Wellformed(%q) = %q, %v; want %q", tt.in, ns, err, tt.ns)
		}
	}
}

func TestSampleDisplayForms(t *testing.T) {
	for _, name := range []string{"asiakkuusasiakirja_S", "asia_ja_rajoitukset_S"} {
		data, err := os.ReadFile("../../testdata/kanta/" + name + ".display.xhtml")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Parse(data, Limits{MaxDepth: 256, AllowDoctype: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc.Root().NamespaceURI() != "http://www.w3.org/1999/xhtml" {
			t.Errorf("%s: root namespace %q", name, doc.Root().NamespaceURI())
		}
		if ns, err := Wellformed(data, Limits{MaxDepth: 256, AllowDoctype: true}); err != nil || ns != doc.Root().NamespaceURI() {
			t.Errorf("%s: Wellformed = %q, %v", name, ns, err)
		}
	}
}

func TestMarkupLimitAndUTF16(t *testing.T) {
	many := "<a>" + strings.Repeat("<b/>", 200_000) + "</a>"
	_, err := Parse([]byte(many), Limits{})
	if l := Problems(err); len(l) != 1 || l[0].Code != RuleTooLarge {
		t.Fatalf("200,000 elements: %v", err)
	}
	if _, err := Parse([]byte("<a>"+strings.Repeat("<b/>", 1000)+"</a>"), Limits{MaxMarkup: 2000}); err != nil {
		t.Fatalf("within the limit: %v", err)
	}
	for _, bom := range [][]byte{{0xFE, 0xFF}, {0xFF, 0xFE}} {
		_, err := Parse(append(bom, []byte("<\x00a\x00/\x00>\x00")...), Limits{})
		if l := Problems(err); len(l) != 1 || l[0].Code != RuleEncoding {
			t.Errorf("UTF-16 BOM % x: %v", bom, err)
		}
	}
}

// Content that is not XML at all says so, rather than naming the first
// rule the parser trips on (an entity in a README was XML_ENTITY).
func TestNotXMLSaysSo(t *testing.T) {
	for _, in := range []string{"# README\n\nA &nbsp; B", "", "  \n", "hello <a/>"} {
		for name, err := range map[string]error{"Parse": parseErr(in), "Wellformed": wellformedErr(in)} {
			p := Problems(err)
			if len(p) != 1 || p[0].Code != RuleMalformed || (!strings.Contains(p[0].Message, "not XML") && !strings.Contains(p[0].Message, "empty")) {
				t.Errorf("%s(%q): %v, want %s saying it is not XML or empty", name, in, p, RuleMalformed)
			}
		}
	}
}

func parseErr(in string) error {
	_, err := Parse([]byte(in), Limits{})
	return err
}

func wellformedErr(in string) error {
	_, err := Wellformed([]byte(in), Limits{})
	return err
}
