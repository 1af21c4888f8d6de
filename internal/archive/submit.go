package archive

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/formjson"
	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/relationship"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// The submission pipeline. Every door and `arkisto validate` go through
// it: Inspect says what the archive thinks of documents without storing
// anything; Submit archives them all or nothing and logs a refusal. A door
// decodes its protocol, and calls one of them.

// Checked is a document that went through inspection: its problems, or
// what it says ready to be archived.
type Checked struct {
	Doc     *cda.Document
	Report  *xmldsig.Report
	Raw     []byte
	SHA256  string
	Problem problem.List
	// Relationship is what a client relationship document says.
	Relationship *relationship.Relationship
	// Source is the metadata the door's protocol sent with the document,
	// set by the door's Agreement once it agrees with the document; it is
	// kept with the new version (Record.Source).
	Source *SourceMetadata
}

// Inspector inspects documents: it reads and validates them, verifies
// their signatures, binds the signers and the signed structured form to
// the header and reads what a client relationship document says. It needs
// no store and no caller: what depends on the submitter (SignerProblems)
// and on the archive's contents is checked on Submit.
type Inspector struct {
	// MaxBytes limits a document; default 20 MiB.
	MaxBytes int64
	// Roots are the trust anchors signers must chain to.
	Roots *x509.CertPool
	// ChainsNotJudged leaves whether the signers chain to Roots out of
	// the problems (the report still tells): for a tool that may not hold
	// the archive's trust anchors.
	ChainsNotJudged bool
	// Chains caches chains verified against Roots; optional.
	Chains *xmldsig.ChainCache
	// Revoked says whether and when a CRL revoked a certificate; optional.
	Revoked func(*x509.Certificate) (time.Time, bool)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// trustRules are the problems that depend on the trust anchors.
func trustRule(code string) bool {
	return code == xmldsig.RuleChain || code == xmldsig.RuleCertValidity
}

// Inspect inspects one document.
func (in *Inspector) Inspect(raw []byte) *Checked {
	sum := sha256.Sum256(raw)
	c := &Checked{Raw: raw, SHA256: hex.EncodeToString(sum[:])}
	doc, probs := cda.Read(raw, cda.Options{MaxBytes: in.MaxBytes})
	c.Doc = doc
	var form *formjson.Tape
	if doc != nil {
		form = readForm(doc)
		now := in.Now
		if now == nil {
			now = time.Now
		}
		c.Report = (&xmldsig.Verifier{Roots: in.Roots, Now: now, Chains: in.Chains, Revoked: in.Revoked}).Verify(doc)
		probs = append(probs, c.Report.Document...)
		for _, s := range c.Report.Signatures {
			for _, p := range s.Problems {
				if !in.ChainsNotJudged || !trustRule(p.Code) {
					probs = append(probs, p)
				}
			}
		}
		if len(probs) == 0 && !c.Report.Accepted() && !(in.ChainsNotJudged && c.Report.CryptoValid()) {
			probs.Add(xmldsig.RuleChain, "/ClinicalDocument/hl7fi:localSocialHeader/hl7fi:signatureCollection", "every signature must be valid and chain to a trusted CA")
		}
		probs = append(probs, binding(doc, c.Report, form)...)
	}
	if doc != nil && len(probs) == 0 && doc.DocumentGroup.Code == codes.GroupClientRelationship {
		rel, rprobs := relationship.ReadForm(&doc.Header, doc.Body.Structured, form)
		probs = append(probs, rprobs...)
		c.Relationship = rel
	}
	c.Problem = probs
	return c
}

// inspector is the service's inspector as of now: the archive's trust
// anchors and revocations.
func (s *Service) inspector(ctx context.Context) (*Inspector, error) {
	t, err := s.trust.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return &Inspector{MaxBytes: s.cfg.MaxDocumentBytes, Roots: t.Roots, Chains: t.Chains, Revoked: t.RevokedAt, Now: s.now}, nil
}

// Inspect inspects documents as the archive would on submission, against
// its trust anchors and revocations, storing and logging nothing. An
// error is an internal failure (the trust anchors could not be read);
// what is wrong with a document is in its Checked.Problem.
func (s *Service) Inspect(ctx context.Context, docs ...[]byte) ([]*Checked, error) {
	in, err := s.inspector(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Checked, len(docs))
	for i, raw := range docs {
		out[i] = in.Inspect(raw)
	}
	return out, nil
}

// Agreement is a door's own check of a document against the metadata the
// door's protocol sent with it (FHIR's DocumentReference, say). It runs
// once the document has passed inspection; an error refuses the whole
// submission, is logged as a refusal, and comes back from Submit in an
// *Error (errors.As finds the door's own error in it too).
type Agreement func(i int, ch *Checked) error

// Submit archives a submission of documents all or nothing: it inspects
// them, runs the door's agreement (nil: none), checks what needs the
// submitter and the archive's contents, and stores them in one transaction
// with their access-log entries. Identical bytes already archived return
// the existing record; the same document id with other bytes is a
// conflict. On refusal the returned *Error's Index names the document at
// fault and the refusal is in the access log: one entry per client and
// controller the submission names.
func (s *Service) Submit(ctx context.Context, c Caller, docs [][]byte, agree Agreement) ([]Archived, error) {
	return s.submit(ctx, c, docs, agree, nil, nil)
}

// submit is Submit, keeping the submission sets of meta (nil: none) in
// the same transaction and returning them in *sets.
func (s *Service) submit(ctx context.Context, c Caller, docs [][]byte, agree Agreement, meta *SubmissionSetMeta, sets *[]SubmittedSet) ([]Archived, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, &Error{Kind: ErrInvalid, Message: "nothing to archive"}
	}
	chs, err := s.Inspect(ctx, docs...)
	if err != nil {
		return nil, err // the trust state could not be read: nothing was refused
	}
	for i, ch := range chs {
		if len(ch.Problem) > 0 {
			e := &Error{Kind: ErrInvalid, Index: i, Message: "the document is not acceptable", Problems: ch.Problem, Inspection: true}
			return nil, s.reject(ctx, c, chs, e)
		}
	}
	if agree != nil {
		for i, ch := range chs {
			if aerr := agree(i, ch); aerr != nil {
				e := &Error{Kind: ErrInvalid, Index: i, Message: "metadata disagrees with the document: " + aerr.Error(), cause: aerr}
				return nil, s.reject(ctx, c, chs, e)
			}
		}
	}
	return s.archiveChecked(ctx, c, chs, meta, sets)
}

// Archive archives one document: Submit without a door's agreement.
func (s *Service) Archive(ctx context.Context, c Caller, raw []byte) (*Record, error) {
	res, err := s.Submit(ctx, c, [][]byte{raw}, nil)
	if err != nil {
		return nil, err
	}
	return res[0].Record, nil
}

// RefuseUnread logs the refusal of a submission a door refused before
// reading its documents (one too large to take), and returns err: one
// entry, however many documents it held.
func (s *Service) RefuseUnread(ctx context.Context, c Caller, err *Error) error {
	return s.reject(ctx, c, nil, err)
}
