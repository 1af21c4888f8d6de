package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/gen"
)

// The disclosure workload: another controller (the recipient) searches
// the documents a client has in a controller's register, with the
// client's consent. For a sample of the clients, the recipient archives
// its own client relationship document with the client and records the
// client's information notice and disclosure consent, all through the
// FHIR door; its searches then disclose the client's documents, and every
// document disclosed goes into the disclosure log in the same durable
// transaction as the search's access-log entry.

// A consenting client is one the recipient may receive documents of.
type consenting struct {
	Client    string `json:"client"`    // identity code
	Org       int    `json:"org"`       // the controller of the client's documents (index into the PKI's organisations)
	Recipient int    `json:"recipient"` // the other controller, which searches with consent
}

// disclosureFile, in a run directory, lists the consenting clients the
// run set up, so that --reads-only measures the same disclosures.
const disclosureFile = "disclosure-clients.json"

// recipientOf is the controller that receives disclosures of org's
// clients: the next public organisation after it, or -1 when there is
// none (a world of one organiser).
func recipientOf(world *gen.PKI, org int) int {
	n := len(world.Organisations)
	for i := 1; i < n; i++ {
		j := (org + i) % n
		if world.Organisations[j].Kind == archive.KindPublic {
			return j
		}
	}
	return -1
}

// chooseConsenting picks up to n distinct clients of the sampled
// documents, each with a recipient.
func chooseConsenting(world *gen.PKI, sample []*Meta, n int) []consenting {
	var out []consenting
	seen := map[string]bool{}
	for _, m := range sample {
		if len(out) >= n {
			break
		}
		if seen[m.Client] {
			continue
		}
		seen[m.Client] = true
		if r := recipientOf(world, m.Org); r >= 0 {
			out = append(out, consenting{Client: m.Client, Org: m.Org, Recipient: r})
		}
	}
	return out
}

// willBody is a Consent recording the client's own will expression of
// kind notice or consent, as docs/api.md describes it.
func willBody(clientID, kind string, today time.Time) ([]byte, error) {
	client := map[string]any{"system": fhirapi.SystemIdentityCode, "value": clientID}
	c := map[string]any{
		"resourceType": "Consent",
		"status":       "active",
		"scope":        map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}}},
		"category":     []any{map[string]any{"coding": []any{map[string]any{"system": fhirapi.SystemWillExpression, "code": kind}}}},
		"patient":      map[string]any{"identifier": client},
		"performer":    []any{map[string]any{"type": "Patient", "identifier": client}},
		"policy":       []any{map[string]any{"uri": fhirapi.ClientDataAct}},
	}
	if kind == "consent" {
		c["provision"] = map[string]any{"type": "permit", "period": map[string]any{"start": today.In(fitime.Location).Format(time.DateOnly)}}
	}
	return json.Marshal(c)
}

// prepareDisclosure makes the consenting clients ready before the first
// disclosure pass: those an earlier run set up on this store, or, for up
// to Config.DisclosureClients clients of the sampled documents, the
// recipient's relationship document, the notice and the consent, sent
// through the FHIR door (unmeasured).
func (b *run) prepareDisclosure(ctx context.Context, base string, sample []*Meta) error {
	path := filepath.Join(b.runDir, disclosureFile)
	if js, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(js, &b.consenting); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		b.cfg.logf("disclosure: reusing the %d consenting clients of the earlier run", len(b.consenting))
		b.res.DisclosureClients = len(b.consenting)
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	chosen := chooseConsenting(b.world, sample, b.cfg.DisclosureClients)
	if len(chosen) == 0 {
		b.cfg.logf("disclosure: no client has a second controller to disclose to; the disclosure workload is left out")
		b.consenting = []consenting{} // not again at the next checkpoint
		b.res.DisclosureClients = 0
		return nil
	}
	g := gen.New(b.world, gen.Options{Seed: b.cfg.Seed*1000 + 999, Clients: 1})
	today := time.Now()
	var rels, notices, consents []*request
	for _, c := range chosen {
		to := b.callers[c.Recipient]
		doc, err := g.RelationshipFor(to.org, c.Client)
		if err != nil {
			return fmt.Errorf("disclosure setup: %w", err)
		}
		body, err := fhirapi.SubmissionBundle(doc.XML)
		if err != nil {
			return err
		}
		rels = append(rels, &request{caller: to, method: http.MethodPost, url: base, body: body, ctype: "application/fhir+json", want: http.StatusOK})
		for kind, into := range map[string]*[]*request{"notice": &notices, "consent": &consents} {
			body, err := willBody(c.Client, kind, today)
			if err != nil {
				return err
			}
			*into = append(*into, &request{caller: to, method: http.MethodPost, url: base + "/Consent", body: body, ctype: "application/fhir+json", want: http.StatusCreated})
		}
	}
	// In this order: a controller records a will expression only with a
	// client relationship, and a consent only after the notice.
	for _, step := range []struct {
		what string
		reqs []*request
	}{{"the recipients' client relationship documents", rels}, {"the information notices", notices}, {"the disclosure consents", consents}} {
		if err := presign(ctx, step.reqs); err != nil {
			return err
		}
		bar := b.cfg.bar(len(step.reqs), "disclosure setup: "+step.what, "requests")
		_, err := closedLoop(ctx, step.reqs, b.cfg.Concurrency, bar)
		bar.Finish()
		if err != nil {
			return fmt.Errorf("disclosure setup, %s: %w", step.what, err)
		}
	}
	b.consenting = chosen
	b.res.DisclosureClients = len(chosen)
	js, err := json.Marshal(chosen)
	if err != nil {
		return err
	}
	return os.WriteFile(path, js, 0o600)
}

// checkDisclosure makes sure, unmeasured, that the recipient's searches
// with consent disclose documents of every consenting client, and returns
// how many each discloses on average: the recipient's total with purpose
// disclosure less its total for its own register. It also gathers the
// sampled documents of the consenting clients for the disclosure passes.
func (b *run) checkDisclosure(ctx context.Context, base string, sample []*Meta) (float64, error) {
	type bundle struct {
		Total *int `json:"total"`
	}
	totals := make([]bundle, 2*len(b.consenting))
	var reqs []*request
	for i, c := range b.consenting {
		u := base + "/DocumentReference?_count=1&" + patient(&Meta{Client: c.Client})
		for j, purpose := range []string{archive.PurposeDisclosure, archive.PurposeOwnRegister} {
			reqs = append(reqs, &request{caller: b.callers[c.Recipient], purpose: purpose, method: http.MethodGet, url: u, want: http.StatusOK, into: &totals[2*i+j]})
		}
	}
	if err := presign(ctx, reqs); err != nil {
		return 0, err
	}
	if _, err := closedLoop(ctx, reqs, b.cfg.Concurrency, nil); err != nil {
		return 0, fmt.Errorf("disclosure check: %w", err)
	}
	disclosed := 0
	for i := range b.consenting {
		with, own := totals[2*i].Total, totals[2*i+1].Total
		if with == nil || own == nil {
			return 0, errors.New("disclosure check: a search answer without its total")
		}
		if *with <= *own {
			// No identity code here: this is an operator's message.
			return 0, fmt.Errorf("disclosure check: the recipient's search with consent disclosed nothing of consenting client %d of %d (total %d, own %d)", i+1, len(b.consenting), *with, *own)
		}
		disclosed += *with - *own
	}
	// The disclosure passes draw on every sampled document of the
	// consenting clients seen so far, so that the pool never shrinks as
	// the sample moves on.
	clients := map[string]bool{}
	for _, c := range b.consenting {
		clients[c.Client] = true
	}
	have := map[string]bool{}
	for _, m := range b.disclosureDocs {
		have[m.ID] = true
	}
	for _, m := range sample {
		if clients[m.Client] && !have[m.ID] {
			have[m.ID] = true
			b.disclosureDocs = append(b.disclosureDocs, m)
		}
	}
	return math.Round(float64(disclosed)/float64(len(b.consenting))*10) / 10, nil
}

// disclosures are the searches of the search workload for the consenting
// clients' documents, each sent by the client's recipient with purpose
// disclosure.
func (b *run) disclosures(base string, rng *rand.Rand) func() []*request {
	recipient := map[string]int{}
	for _, c := range b.consenting {
		recipient[c.Client] = c.Recipient
	}
	return b.searchMix(base, b.disclosureDocs, rng, func(m *Meta) (*caller, string) {
		return b.callers[recipient[m.Client]], archive.PurposeDisclosure
	})
}
