package xmldsig_test

// Differential tests of the canonicaliser: it must write byte for byte what
// the implementation it replaced (xmldsig.CanonicalizeReference) writes,
// and refuse what that refuses.

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/xmldsig"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

// sameCanonicalForm canonicalises el with the reference and with
// canonicalize, both as bytes and passed on in chunks of 7 bytes, and says
// how they differ. Where the reference accepts, the new one may refuse only
// an attribute clash (see canonicalize), which is then checked
// independently.
func sameCanonicalForm(el *etree.Element, prefixList string, strip bool) error {
	want, wantErr := xmldsig.CanonicalizeReference(el, prefixList, strip)
	got, err := xmldsig.Canonicalize(el, prefixList, strip)
	var chunked bytes.Buffer
	chunkErr := xmldsig.CanonicalizeChunked(&chunked, el, prefixList, strip, 7)
	what := fmt.Sprintf("<%s> with PrefixList %q, strip %v", el.FullTag(), prefixList, strip)
	switch {
	case (err == nil) != (chunkErr == nil):
		return fmt.Errorf("%s: as bytes: %v; in chunks: %v", what, err, chunkErr)
	case wantErr != nil && err == nil:
		return fmt.Errorf("%s: the reference refuses (%v), canonicalize accepts:\n%s", what, wantErr, got)
	case wantErr != nil:
		return nil
	case err != nil && errors.Is(err, xmldsig.ErrAttributeClash) && attributeClash(el):
		return nil
	case err != nil:
		return fmt.Errorf("%s: the reference accepts, canonicalize refuses: %v", what, err)
	case !bytes.Equal(got, want):
		return fmt.Errorf("%s: differs from the reference %s", what, firstDifference(got, want))
	case !bytes.Equal(chunked.Bytes(), want):
		return fmt.Errorf("%s: in chunks, differs from the reference %s", what, firstDifference(chunked.Bytes(), want))
	}
	return nil
}

func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-40)
	return fmt.Sprintf("at byte %d of %d (want %d):\n got …%q\nwant …%q", i, len(got), len(want), got[from:min(len(got), i+40)], want[from:min(len(want), i+40)])
}

// attributeClash reports whether an element of the subtree has two
// attributes with the same namespace URI and local name, other than an
// unprefixed one and one whose prefix is bound to "".
func attributeClash(root *etree.Element) bool {
	clash := false
	eachElement(root, func(el *etree.Element) {
		type count struct{ unprefixed, prefixed int }
		seen := map[[2]string]*count{}
		for _, a := range el.Attr {
			if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
				continue
			}
			uri := ""
			switch a.Space {
			case "":
			case "xml":
				uri = "http://www.w3.org/XML/1998/namespace"
			default:
				uri = resolvePrefix(el, a.Space)
			}
			k := [2]string{uri, a.Key}
			if seen[k] == nil {
				seen[k] = &count{}
			}
			if a.Space == "" {
				seen[k].unprefixed++
			} else {
				seen[k].prefixed++
			}
			if seen[k].unprefixed > 1 || seen[k].prefixed > 1 {
				clash = true
			}
		}
	})
	return clash
}

// resolvePrefix finds the declaration of prefix in scope at el: the last on
// the nearest element that declares it.
func resolvePrefix(el *etree.Element, prefix string) string {
	for e := el; e != nil; e = e.Parent() {
		found, uri := false, ""
		for _, a := range e.Attr {
			if a.Space == "xmlns" && a.Key == prefix {
				found, uri = true, a.Value
			}
		}
		if found {
			return uri
		}
	}
	return ""
}

// eachElement calls fn for root and every element below it, in document
// order.
func eachElement(root *etree.Element, fn func(*etree.Element)) {
	stack := []*etree.Element{root}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fn(el)
		kids := el.ChildElements()
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
}

// prefixLists are PrefixLists to try on a tree: none, the prefixes the
// documents use, ones without special meaning, and every prefix the tree
// declares.
func prefixLists(root *etree.Element) []string {
	declared := map[string]bool{}
	var all []string
	eachElement(root, func(el *etree.Element) {
		for _, a := range el.Attr {
			if a.Space == "xmlns" && !declared[a.Key] {
				declared[a.Key] = true
				all = append(all, a.Key)
			}
		}
	})
	return []string{"", "hl7fi", "xsi ds  hl7fi\t", "#default xml xmlns p", strings.Join(all, " ")}
}

// checkEveryElement compares the canonical forms of every element of the
// tree under each of prefixLists(root), stripped and not.
func checkEveryElement(t testing.TB, root *etree.Element) {
	t.Helper()
	lists := prefixLists(root)
	n := 0
	eachElement(root, func(el *etree.Element) {
		for _, pl := range lists {
			for _, strip := range []bool{false, true} {
				if err := sameCanonicalForm(el, pl, strip); err != nil {
					if n++; n <= 5 {
						t.Error(err)
					}
				}
			}
		}
	})
	if n > 5 {
		t.Errorf("... and %d more differences", n-5)
	}
}

// checkSignedForms compares the canonical forms a verifier can compute on
// a document: of every element an ID can name and of every ds:SignedInfo,
// with no PrefixList and with those the document gives, stripped and not.
// readDoc calls it, so every document the tests verify, the attack suites'
// among them, is checked.
func checkSignedForms(t testing.TB, doc *etree.Document) {
	t.Helper()
	lists := map[string]bool{"": true}
	var targets []*etree.Element
	eachElement(doc.Root(), func(el *etree.Element) {
		if el.Tag == "SignedInfo" {
			targets = append(targets, el)
		}
		for _, a := range el.Attr {
			switch {
			case a.Space == "" && (a.Key == "ID" || a.Key == "Id" || a.Key == "id"), a.Space == "xml" && a.Key == "id":
				targets = append(targets, el)
			case el.Tag == "InclusiveNamespaces" && a.Key == "PrefixList":
				lists[a.Value] = true
			}
		}
	})
	for _, el := range targets {
		for pl := range lists {
			for _, strip := range []bool{false, true} {
				if err := sameCanonicalForm(el, pl, strip); err != nil {
					t.Errorf("canonical form: %v", err)
				}
			}
		}
	}
}

// The generated documents, signed as received and over the stripped form,
// with RSA and ECDSA, and the trees cda.Build makes before serialisation.
func TestCanonicalizeGeneratedMatchesReference(t *testing.T) {
	w := testWorld(t)
	var docs []*gen.Doc
	for _, g := range []*gen.Generator{
		gen.New(w.pki, gen.Options{Seed: 7, Clients: 4, StrippedEvery: 2, ReplaceEvery: 3}),
		gen.New(testECWorld(t), gen.Options{Seed: 8, Clients: 2, StrippedEvery: 2}),
	} {
		for range 4 {
			d, err := g.Next()
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, d)
		}
	}
	for i, d := range docs {
		t.Run(fmt.Sprintf("doc %d", i), func(t *testing.T) {
			tree, err := xmlsafe.Parse(d.XML, xmlsafe.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkEveryElement(t, tree.Root())
		})
	}
	t.Run("built tree", func(t *testing.T) {
		b := w.fresh(true)
		handSign(t, b, spec{ID: "sig-1", Signer: w.prof, TypeCode: codes.SignatureProfessional})
		s := &xmldsig.Signer{Key: w.system.Key, Cert: w.system.Cert, TypeCode: codes.SignatureSystem, Enveloped: true}
		if err := s.Sign(b.Collection, b.Body, "sig-2", time.Now().Add(-time.Minute), true); err != nil {
			t.Fatal(err)
		}
		checkEveryElement(t, b.Tree.Root())
	})
}

// The public samples: what real producers send.
func TestCanonicalizeSamplesMatchReference(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.x*ml"))
	if err != nil || len(files) < 4 {
		t.Fatalf("samples: %v, %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := xmlsafe.Parse(data, xmlsafe.Limits{AllowDoctype: true})
			if err != nil {
				t.Fatal(err)
			}
			checkEveryElement(t, tree.Root())
		})
	}
}

// findTag returns the first element named tag (any prefix) in document
// order.
func findTag(t testing.TB, root *etree.Element, tag string) *etree.Element {
	t.Helper()
	var found *etree.Element
	eachElement(root, func(el *etree.Element) {
		if found == nil && el.Tag == tag {
			found = el
		}
	})
	if found == nil {
		t.Fatalf("no element %s", tag)
	}
	return found
}

// c14nCases are small documents whose element e has a known canonical
// form: what both implementations write.
var c14nCases = []struct {
	name, xml, prefixList string
	strip                 bool
	want                  string // "": refused
}{
	{name: "declarations in scope from ancestors, only those used",
		xml:  `<r xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q" xmlns:unused="urn:u"><e p:a="1"><q:f/><g/></e></r>`,
		want: `<e xmlns="urn:d" xmlns:p="urn:p" p:a="1"><q:f xmlns:q="urn:q"></q:f><g></g></e>`},
	{name: "not rendered again below an output ancestor with the same binding",
		xml:  `<r xmlns:p="urn:p"><p:e><p:f xmlns:p="urn:p"><p:g xmlns:p="urn:other"/></p:f></p:e></r>`,
		want: `<p:e xmlns:p="urn:p"><p:f><p:g xmlns:p="urn:other"></p:g></p:f></p:e>`},
	{name: "a declaration the element does not use is left out",
		xml:  `<e><f xmlns:p="urn:p"/></e>`,
		want: `<e><f></f></e>`},
	{name: "xmlns empty below a default namespace",
		xml:  `<r xmlns="urn:d"><e><f xmlns=""><g/></f></e></r>`,
		want: `<e xmlns="urn:d"><f xmlns=""><g></g></f></e>`},
	{name: "xmlns empty in scope of the apex is rendered (etreeutils)",
		xml:  `<r xmlns="urn:d"><s xmlns=""><e/></s></r>`,
		want: `<e xmlns=""></e>`},
	{name: "no default namespace anywhere",
		xml:  `<e><f/></e>`,
		want: `<e><f></f></e>`},
	{name: "InclusiveNamespaces: a prefix in scope at the apex",
		xml: `<r xmlns:p="urn:p" xmlns:q="urn:q"><e><f xmlns:q="urn:q2"/></e></r>`, prefixList: "p q",
		want: `<e xmlns:p="urn:p" xmlns:q="urn:q"><f xmlns:q="urn:q2"></f></e>`},
	{name: "InclusiveNamespaces: below the apex, only where declared",
		xml: `<e><f xmlns:p="urn:p"><g/></f><h xmlns:q="urn:q"/></e>`, prefixList: "p",
		want: `<e><f xmlns:p="urn:p"><g></g></f><h></h></e>`},
	{name: "InclusiveNamespaces: #default means nothing (etreeutils)",
		xml: `<r xmlns="urn:d"><x:e xmlns:x="urn:x"/></r>`, prefixList: "#default",
		want: `<x:e xmlns:x="urn:x"></x:e>`},
	{name: "attributes by namespace URI, not by prefix",
		xml:  `<e xmlns:a="urn:z" xmlns:b="urn:a" a:x="1" b:y="2" z="0" xml:lang="fi"/>`,
		want: `<e xmlns:a="urn:z" xmlns:b="urn:a" z="0" xml:lang="fi" b:y="2" a:x="1"></e>`},
	{name: "attributes of one namespace by local name",
		xml:  `<e xmlns:hl7fi="urn:hl7finland" hl7fi:b="2" hl7fi:a="1" b="y" a="x"/>`,
		want: `<e xmlns:hl7fi="urn:hl7finland" a="x" b="y" hl7fi:a="1" hl7fi:b="2"></e>`},
	{name: "text escaping",
		xml:  "<e>a&amp;b&lt;c&gt;d\"'&#xD;&#9;\n]]&gt;</e>",
		want: "<e>a&amp;b&lt;c&gt;d\"'&#xD;\t\n]]&gt;</e>"},
	{name: "attribute escaping",
		xml:  `<e a="&amp;&lt;&gt;&quot;'&#9;&#10;&#13;ä"/>`,
		want: `<e a="&amp;&lt;>&quot;'&#x9;&#xA;&#xD;ä"></e>`},
	{name: "CDATA as text",
		xml:  `<e><![CDATA[<x>&]]>y</e>`,
		want: `<e>&lt;x&gt;&amp;y</e>`},
	{name: "comments left out, processing instructions kept",
		xml:  `<e><!-- c --><?pi some data?><?bare?><f/><!--d--></e>`,
		want: `<e><?pi some data?><?bare?><f></f></e>`},
	{name: "whitespace kept",
		xml:  "<e>\n  <f> </f>\r\n\t<g>x </g>\n</e>",
		want: "<e>\n  <f> </f>\n\t<g>x </g>\n</e>"},
	{name: "whitespace-only text stripped", strip: true,
		xml:  "<e>\n  <f> </f>\n\t<g> x </g><!--c-->\n</e>",
		want: "<e><f></f><g> x </g></e>"},
	{name: "reserved xml prefix rebound", xml: `<e xmlns:xml="urn:not-xml"/>`},
	{name: "reserved xml prefix rebound on an ancestor", xml: `<r xmlns:xml="urn:not-xml"><e/></r>`},
	{name: "reserved xml prefix rebound below", xml: `<e><f xmlns:xml="urn:not-xml"/></e>`},
	{name: "xml prefix bound to its own namespace",
		xml:  `<e xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:space="preserve"/>`,
		want: `<e xml:space="preserve"></e>`},
	{name: "the xmlns namespace as default", xml: `<e><f xmlns="http://www.w3.org/2000/xmlns/"/></e>`},
	{name: "more than 1000 elements", xml: "<e>" + strings.Repeat("<f/>", 1000) + "</e>"},
	{name: "1000 elements", xml: "<e>" + strings.Repeat("<f/>", 999) + "</e>",
		want: "<e>" + strings.Repeat("<f></f>", 999) + "</e>"},
}

func TestCanonicalizeCases(t *testing.T) {
	for _, c := range c14nCases {
		t.Run(c.name, func(t *testing.T) {
			tree, err := xmlsafe.Parse([]byte(c.xml), xmlsafe.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			e := findTag(t, tree.Root(), "e")
			ref, refErr := xmldsig.CanonicalizeReference(e, c.prefixList, c.strip)
			got, err := xmldsig.Canonicalize(e, c.prefixList, c.strip)
			switch {
			case c.want == "" && (err == nil || refErr == nil):
				t.Errorf("accepted: %q (reference: %q, %v)", got, ref, refErr)
			case c.want != "" && (string(got) != c.want || err != nil):
				t.Errorf("got %q, %v\nwant %q", got, err, c.want)
			case c.want != "" && (string(ref) != c.want || refErr != nil):
				t.Errorf("the reference writes %q, %v\n         want %q", ref, refErr, c.want)
			}
			if err := sameCanonicalForm(e, c.prefixList, c.strip); err != nil {
				t.Error(err)
			}
		})
	}
}

// Trees built in code can hold what no parse of a document gives: CDATA
// sections, directives, undeclared prefixes, characters XML does not allow.
// Both canonicalisers write or refuse them alike.
func TestCanonicalizeBuiltTrees(t *testing.T) {
	build := func(f func(e *etree.Element)) *etree.Element {
		doc := etree.NewDocument()
		r := doc.CreateElement("r")
		r.CreateAttr("xmlns:p", "urn:p")
		e := r.CreateElement("e")
		f(e)
		return e
	}
	cases := []struct {
		name string
		el   *etree.Element
		want string // "": refused
	}{
		{"CDATA section", build(func(e *etree.Element) { e.CreateCData("a]]>b<"); e.CreateText(" ") }),
			`<e><![CDATA[a]]]]><![CDATA[>b<]]> </e>`},
		{"whitespace CDATA section", build(func(e *etree.Element) { e.CreateCData(" \n") }), "<e><![CDATA[ \n]]></e>"},
		{"directive", build(func(e *etree.Element) { e.CreateDirective("x y") }), `<e><!x y></e>`},
		{"processing instruction with ?>", build(func(e *etree.Element) { e.CreateProcInst("t", "a?>b") }), `<e><?t a? >b?></e>`},
		{"characters XML does not allow", build(func(e *etree.Element) {
			e.CreateAttr("a", "x\x01y\xffz\uFFFE")
			e.SetText("\x00\x1f\xed\xa0\x80\uFFFD\U0010FFFF")
		}), "<e a=\"x\uFFFDy\uFFFDz\uFFFD\">\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\U0010FFFF</e>"},
		{"an empty text node", build(func(e *etree.Element) { e.CreateText("") }), `<e></e>`},
		{"undeclared element prefix", build(func(e *etree.Element) { e.CreateElement("q:f") }), ""},
		{"undeclared attribute prefix", build(func(e *etree.Element) { e.CreateAttr("q:a", "1") }), ""},
		{"declared prefix", build(func(e *etree.Element) { e.CreateElement("p:f").CreateAttr("p:a", "1") }),
			`<e><p:f xmlns:p="urn:p" p:a="1"></p:f></e>`},
		{"prefix bound to the empty string", build(func(e *etree.Element) {
			e.CreateAttr("xmlns:q", "")
			e.CreateAttr("q:a", "2")
			e.CreateAttr("a", "1")
		}), `<e xmlns:q="" a="1" q:a="2"></e>`},
		{"two prefixes of one namespace, one local name", build(func(e *etree.Element) {
			e.CreateAttr("xmlns:q", "urn:p")
			e.CreateAttr("q:a", "2")
			e.CreateAttr("p:a", "1")
		}), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := xmldsig.Canonicalize(c.el, "", false)
			switch {
			case c.want == "" && err == nil:
				t.Errorf("accepted: %q", got)
			case c.want != "" && (err != nil || string(got) != c.want):
				t.Errorf("got %q, %v\nwant %q", got, err, c.want)
			}
			if err := sameCanonicalForm(c.el, "", false); err != nil {
				t.Error(err)
			}
		})
	}
}

// Chunked output is the same whatever the chunk size, also for a text
// longer than many chunks and a writer that fails.
func TestCanonicalizeChunked(t *testing.T) {
	text := strings.Repeat("abc&<>\r\"", 5000)
	doc := etree.NewDocument()
	e := doc.CreateElement("e")
	e.CreateAttr("a", text)
	e.SetText(text)
	want, err := xmldsig.Canonicalize(e, "", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1, 2, 5, 64, 4096, 1 << 20} {
		var b bytes.Buffer
		if err := xmldsig.CanonicalizeChunked(&b, e, "", false, chunk); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("chunk %d: %s", chunk, firstDifference(b.Bytes(), want))
		}
	}
	if err := xmldsig.CanonicalizeChunked(failingWriter{}, e, "", false, 64); err == nil {
		t.Error("a failing writer's error is lost")
	}
}

// Escaping passes over clean text eight bytes at a time: every character
// escaping must see is seen at every position of such a word, in text and
// in attribute values, alone and next to another.
func TestCanonicalizeEscapingEveryPosition(t *testing.T) {
	base := "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
	specials := []string{"&", "<", ">", "\"", "'", "\t", "\n", "\r", "\x00", "\x1f", "\x7f",
		"ä", "\u20ac", "\U0001F600", "\uFFFD", "\uFFFE", "\xff", "\xc3", "\xed\xa0\x80", " ", "=", "+/"}
	doc := etree.NewDocument()
	e := doc.CreateElement("e")
	n := 0
	for _, sp := range specials {
		for _, next := range []string{"", "<", "ö"} {
			for pos := 0; pos <= 17; pos++ {
				v := base[:pos] + sp + next + base[pos:]
				e.Attr = []etree.Attr{{Key: "a", Value: v}}
				e.SetText(v)
				if err := sameCanonicalForm(e, "", false); err != nil {
					if n++; n <= 5 {
						t.Errorf("%q at %d: %v", sp+next, pos, err)
					}
				}
			}
		}
	}
}

// A hostile element can declare and use thousands of prefixes, and a
// PrefixList can name them all: the cost must grow with the size, not its
// square. (The reference is quadratic in its attribute sort: 40 s for
// 20000.)
func TestCanonicalizeManyDeclarations(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	cost := func(n int) time.Duration {
		var b strings.Builder
		var list []string
		b.WriteString("<r")
		for i := range n {
			fmt.Fprintf(&b, ` xmlns:p%d="urn:%d"`, i, i)
			list = append(list, fmt.Sprintf("p%d", i))
		}
		b.WriteString("><e")
		for i := range n {
			fmt.Fprintf(&b, ` xmlns:p%d="urn:x%d" p%d:a="1"`, i, i, i)
		}
		b.WriteString("/></r>")
		doc, err := xmlsafe.Parse([]byte(b.String()), xmlsafe.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			for _, el := range []*etree.Element{doc.Root(), doc.Root().ChildElements()[0]} {
				if _, err := xmldsig.Canonicalize(el, strings.Join(list, " "), false); err != nil {
					t.Fatal(err)
				}
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := cost(1000), cost(32000)
	t.Logf("1000 declarations: %s; 32000: %s", small, large)
	if large > 150*small {
		t.Errorf("32 times the declarations cost %.0f times as much", float64(large)/float64(small))
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// Signing and verifying use the chunked form for digests: a body larger
// than a chunk still verifies, and only over the right form.
func TestCanonicalizeLargeBodyDigest(t *testing.T) {
	w := testWorld(t)
	body := w.sysBody
	body.Structured = bytes.Repeat([]byte("{\"a\":\"<&>\"}\n"), 20000)
	b := cda.Build(w.sysDoc.Header, body, true)
	s := &xmldsig.Signer{Key: w.system.Key, Cert: w.system.Cert, TypeCode: codes.SignatureSystem}
	if err := s.Sign(b.Collection, b.Body, "sig-1", time.Now().Add(-time.Minute), false); err != nil {
		t.Fatal(err)
	}
	rep := w.verifyBuilt(t, b)
	wantAccepted(t, rep)
	if rep.Signatures[0].Form != xmldsig.FormAsReceived {
		t.Errorf("form %q", rep.Signatures[0].Form)
	}
}

// FuzzCanonicalize parses arbitrary XML as the archive does and compares
// the two canonicalisers on every element, with several PrefixLists,
// stripped and not; then the same on the tree etree makes when it keeps
// CDATA sections.
//
// Run: go test -run='^$' -fuzz=FuzzCanonicalize -fuzztime=60s ./internal/xmldsig
func FuzzCanonicalize(f *testing.F) {
	for _, c := range c14nCases {
		f.Add([]byte(c.xml))
	}
	for _, s := range []string{
		`<a:e xmlns:a="urn:a" xmlns:b="urn:b" b:y="2" a:x="1" z="0"><b:f a:x="3"/></a:e>`,
		`<e xmlns:a="urn:u" xmlns:b="urn:u" a:x="1" b:x="2"/>`,
		`<e xmlns="urn:d"><f xmlns="urn:d"><g xmlns=""><h xmlns="urn:d"/></g></f></e>`,
		`<p:e xmlns:p="urn:p"><q:f xmlns:q="urn:p" xmlns:p="urn:q" p:a="" q:a=""/></p:e>`,
		"<e a=\"\t\r\n\">\r\n<![CDATA[\r]]></e>",
		`<!DOCTYPE e><e><?pi?><!--x--></e>`,
		`<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:hl7fi="urn:hl7finland" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	<component><nonXMLBody ID="OID1"><text mediaType="text/xml" representation="B64">PGRpdj4=</text></nonXMLBody></component>
	<hl7fi:localSocialHeader><hl7fi:signatureCollection><hl7fi:signature ID="s">
		<hl7fi:signatureTimestamp ID="ts">2026-03-23T08:50:35Z</hl7fi:signatureTimestamp>
		<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>
			<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="hl7fi xsi"/></CanonicalizationMethod>
			<Reference URI="#OID1"><Transforms><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms><DigestValue>AA==</DigestValue></Reference>
		</SignedInfo></Signature>
	</hl7fi:signature></hl7fi:signatureCollection></hl7fi:localSocialHeader>
</ClinicalDocument>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small documents: the samples and generated documents have their
		// own tests, and every element is checked under ten variants.
		doc, err := xmlsafe.Parse(data, xmlsafe.Limits{MaxBytes: 4 << 10, AllowDoctype: true})
		if err != nil {
			return
		}
		checkEveryElement(t, doc.Root())
		raw := etree.NewDocument()
		raw.ReadSettings.PreserveCData = true
		if err := raw.ReadFromBytes(data); err != nil {
			t.Fatalf("xmlsafe parses, etree does not: %v", err)
		}
		checkEveryElement(t, raw.Root())
	})
}

// BenchmarkCanonicalize canonicalises, as a verification does, the
// generated document's body and a body of 1 MiB of base64 into their
// digests and the SignedInfo to bytes, with this package's canonicaliser
// and with the one it replaced.
func BenchmarkCanonicalize(b *testing.B) {
	w := testWorld(b)
	d := readDoc(b, w.sysDoc.XML)
	large := w.sysBody
	large.Structured = bytes.Repeat([]byte("0123456789abcdef"), 48<<10)
	built := cda.Build(w.sysDoc.Header, large, true)
	targets := []struct {
		name   string
		el     *etree.Element
		digest bool
	}{
		{"body digest", d.BodyElement(), true},
		{"1 MiB body digest", built.Body, true},
		{"SignedInfo", findTag(b, d.Tree().Root(), "SignedInfo"), false},
	}
	for _, tg := range targets {
		n, err := xmldsig.Canonicalize(tg.el, "", false)
		if err != nil {
			b.Fatal(err)
		}
		for _, impl := range []struct {
			name  string
			bytes func(el *etree.Element, prefixList string, strip bool) ([]byte, error)
		}{{"new", xmldsig.Canonicalize}, {"reference", xmldsig.CanonicalizeReference}} {
			b.Run(tg.name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(n)))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					switch {
					case tg.digest && impl.name == "new":
						err = xmldsig.CanonicalizeChunked(sha256.New(), tg.el, "", false, 16<<10)
					case tg.digest:
						var c []byte
						c, err = impl.bytes(tg.el, "", false)
						sha256.Sum256(c)
					default:
						_, err = impl.bytes(tg.el, "", false)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
