package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/consent"
)

// scopeWorld is what the randomized scope check draws from. The
// controllers include units of one organisation, an organisation whose
// number begins with another's (1111111 and 11111112: a prefix match
// would confuse them), and a controller outside 1.2.246.10.
var scopeWorld = struct {
	clients, controllers, groups, tasks []string
}{
	clients: []string{"1.2.246.21|010180-9026", "1.2.246.21|020290-903X", "1.2.246.10.1111111.20.1|t-1"},
	controllers: []string{"1.2.246.10.1111111", "1.2.246.10.1111111.10.1", "1.2.246.10.1111111.10.2", "1.2.246.10.11111112",
		"1.2.246.10.2222222.10.1", "1.2.246.10.3333333", "1.2.3.4"},
	groups: []string{"1", "2", "3", "4", "5"},
	tasks:  []string{"01", "02", "03", ""},
}

// putScopeRecords stores n versions directly, spread over the clients,
// controllers (sometimes another than the custodian, as after a register
// transfer), groups, service tasks, sets and statuses.
func putScopeRecords(t *testing.T, st archive.Store, rng *rand.Rand, n int) []string {
	t.Helper()
	ctx := context.Background()
	w := scopeWorld
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var sets []string
	versions := map[string]int{}
	err := st.Update(ctx, func(tx archive.Tx) error {
		for i := range n {
			// A set is one client's (PostgreSQL keeps sets by client).
			c := rng.IntN(len(w.clients))
			client := w.clients[c]
			set := fmt.Sprintf("1.2.246.10.1111111.95.%d.%d", c+1, rng.IntN(n/8+1))
			if versions[set] == 0 {
				sets = append(sets, set)
			}
			versions[set]++
			controller := w.controllers[rng.IntN(len(w.controllers))]
			custodian := controller
			if rng.IntN(4) == 0 {
				custodian = w.controllers[rng.IntN(len(w.controllers))]
			}
			root, ext, _ := cutKey(client)
			content := fmt.Appendf(nil, "<doc n=%d/>", i)
			sum := sha256.Sum256(content)
			r := &archive.Record{
				Header: cda.Header{
					ID: fmt.Sprintf("1.2.246.10.1111111.96.%d", i), SetID: set, Version: versions[set],
					EffectiveTime: day.Add(time.Duration(i) * time.Hour),
					Client:        cda.Client{ID: cda.ID{Root: root, Extension: ext}},
					Custodian:     cda.Organisation{OID: custodian},
					DocumentGroup: cda.Code{Code: w.groups[rng.IntN(len(w.groups))]},
					ServiceTask:   cda.Code{Code: w.tasks[rng.IntN(len(w.tasks))]},
					Register:      cda.Code{Code: codes.RegisterSocialWelfareClient},
				},
				Controller: controller,
				Status:     []archive.Status{archive.StatusCurrent, archive.StatusSuperseded, archive.StatusNullified}[rng.IntN(3)],
				SHA256:     hex.EncodeToString(sum[:]), Size: int64(len(content)),
				ReceivedAt: day, Submitter: archive.Caller{System: "ats", Organisation: custodian, Purpose: codes.UsageOwnRegister},
			}
			if err := tx.PutDocument(ctx, r, content); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

func cutKey(key string) (root, ext string, ok bool) {
	for i := range len(key) {
		if key[i] == '|' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}

// randomDisclosureScope makes a request and a will in force, mostly ones
// that disclose something, and their scope (nil when nothing may be
// disclosed).
func randomDisclosureScope(rng *rand.Rand, sets []string) *archive.DisclosureScope {
	w := scopeWorld
	pick := func(ss []string) string { return ss[rng.IntN(len(ss))] }
	s := consent.State{Informed: rng.IntN(8) > 0}
	if rng.IntN(8) > 0 {
		s.Consent = &consent.Expression{ID: "c-1", Kind: consent.KindConsent}
	}
	for i := range rng.IntN(4) {
		var target consent.Target
		switch rng.IntN(3) {
		case 0:
			target = consent.Target{Kind: consent.TargetDocument, Value: pick(sets)}
		case 1:
			target = consent.Target{Kind: consent.TargetServiceTask, Value: pick(w.tasks[:3])}
		default:
			// Only controllers under 1.2.246.10: consent.Check refuses others.
			target = consent.Target{Kind: consent.TargetController, Value: pick(w.controllers[:6])}
		}
		s.Prohibitions = append(s.Prohibitions, &consent.Expression{ID: fmt.Sprintf("p-%d", i), Kind: consent.KindProhibition, Target: &target})
	}
	r := consent.Request{Recipient: pick(w.controllers[:6]), RecipientRelationship: rng.IntN(10) > 0, Purpose: consent.PurposeDisclosure}
	if rng.IntN(3) == 0 {
		r.Purpose = consent.PurposeBroadSearch
		r.Justification = consent.Justification{Code: "need-assessment", Text: "Palvelutarpeen arviointi"}
	}
	return archive.NewDisclosureScope(pick(w.clients), s, r)
}

// TestSearchScope checks a backend's search and count against
// archive.Scope.Allows for scopes with a disclosure part: the records a
// search finds within a scope are exactly those Scope.Allows admits (so
// that the SQL of internal/store/sqlstore and the consent rules stay one
// rule), and SearchCount counts exactly what a full search finds,
// whatever the cursor and limit. The records and the scopes are random;
// a failure names the seed. Each backend runs it from its own tests.
func TestSearchScope(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 5))
	sets := putScopeRecords(t, st, rng, 90)
	all := []archive.Status{archive.StatusCurrent, archive.StatusSuperseded, archive.StatusNullified}
	disclosing := 0
	view(t, st, func(tx archive.Tx) error {
		stored, err := tx.ScanDocuments(ctx, "", 1000)
		if err != nil {
			return err
		}
		for i := range 120 {
			sc := archive.Scope{Disclosure: randomDisclosureScope(rng, sets)}
			if sc.Disclosure != nil {
				disclosing++
			}
			switch i % 4 {
			case 1:
				sc.Controllers = []string{scopeWorld.controllers[rng.IntN(len(scopeWorld.controllers))]}
			case 2:
				r := stored[rng.IntN(len(stored))]
				sc.Grants = []archive.Grant{{ClientKey: r.ClientKey(), Organiser: r.Controller, ServiceTask: r.Header.ServiceTask.Code}}
			}
			client := scopeWorld.clients[rng.IntN(len(scopeWorld.clients))]
			if sc.Disclosure != nil && rng.IntN(2) == 0 {
				client = sc.Disclosure.ClientKey
			}
			for _, q := range []archive.Query{{Limit: 1000, Statuses: all}, {ClientKey: client, Limit: 1000, Statuses: all}, {Limit: 1000}} {
				var want []string
				for _, r := range stored {
					if sc.Allows(r) && (q.ClientKey == "" || r.ClientKey() == q.ClientKey) && (q.Statuses != nil || r.Status != archive.StatusNullified) {
						want = append(want, r.Header.ID)
					}
				}
				found, err := tx.Search(ctx, q, sc)
				if err != nil {
					return err
				}
				var got []string
				for _, r := range found {
					got = append(got, r.Header.ID)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("seed %d, scope %+v with disclosure %+v, query %+v: search finds %v, Scope.Allows admits %v", seed, sc, sc.Disclosure, q, got, want)
				}
				n, err := tx.SearchCount(ctx, q, sc)
				if err != nil {
					return err
				}
				if n != len(got) {
					t.Errorf("seed %d, scope %+v, query %+v: count %d, a full search finds %d", seed, sc, q, n, len(got))
				}
				// A page's cursor and limit do not change the total.
				if len(found) > 2 {
					q.Limit = 1
					q.Cursor = archive.EncodeCursor(found[1].Header.EffectiveTime, found[1].Header.ID)
					if n2, err := tx.SearchCount(ctx, q, sc); err != nil || n2 != n {
						t.Errorf("seed %d: count from a cursor with limit 1: %d %v, want %d", seed, n2, err, n)
					}
				}
			}
		}
		return nil
	})
	if disclosing < 60 {
		t.Errorf("seed %d: only %d of 120 scopes disclose anything; the check is too weak", seed, disclosing)
	}
	// An empty scope finds and counts nothing.
	view(t, st, func(tx archive.Tx) error {
		found, err := tx.Search(ctx, archive.Query{Limit: 1000}, archive.Scope{})
		if err != nil {
			return err
		}
		n, err := tx.SearchCount(ctx, archive.Query{}, archive.Scope{})
		if err != nil {
			return err
		}
		if len(found) != 0 || n != 0 {
			t.Errorf("an empty scope finds %d and counts %d", len(found), n)
		}
		return nil
	})
}
