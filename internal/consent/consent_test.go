package consent

import (
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/hetu"
)

var (
	day0  = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	adult = mustCode(time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC), 901, '-')
	child = mustCode(time.Date(2016, 5, 17, 0, 0, 0, 0, time.UTC), 902, 'A')
	mum   = mustCode(time.Date(1985, 2, 3, 0, 0, 0, 0, time.UTC), 903, '-')
)

func mustCode(birth time.Time, n int, sign byte) string {
	c, err := hetu.Make(birth, n, sign)
	if err != nil {
		panic(err)
	}
	return c
}

func key(code string) string { return hetu.OIDRoot + "|" + code }

func byClient(code string) Recorder { return Recorder{Role: RoleClient, Person: code} }

func byGuardian() Recorder { return Recorder{Role: RoleRepresentative, Person: mum} }

func byProfessional(on Role) Recorder {
	r := Recorder{Role: RoleProfessional, Person: "10000000001", Name: "Testi Ammattilainen", Unit: "1.2.246.10.12345678.10.1",
		System: "ats-x", Organisation: "1.2.246.10.12345678.10.0", OnStatementOf: on}
	if on == RoleRepresentative {
		r.Representative = mum
	}
	return r
}

func withRep(r Recorder, code string) Recorder {
	r.Representative = code
	return r
}

func notice(id, code string, at time.Time, by Recorder) *Expression {
	return &Expression{ID: id, ClientKey: key(code), Kind: KindNotice, RecordedAt: at, Recorder: by}
}

func consentOf(id, code string, at time.Time, by Recorder) *Expression {
	return &Expression{ID: id, ClientKey: key(code), Kind: KindConsent, RecordedAt: at, From: at, Recorder: by}
}

func prohibition(id, code string, at time.Time, by Recorder, kind TargetKind, value string) *Expression {
	return &Expression{ID: id, ClientKey: key(code), Kind: KindProhibition, RecordedAt: at, Recorder: by, Target: &Target{Kind: kind, Value: value}}
}

func codesOf(p interface{ Codes() []string }) string { return strings.Join(p.Codes(), ",") }

func TestCheck(t *testing.T) {
	informed := []*Expression{notice("n1", adult, day0, byClient(adult))}
	childInformed := []*Expression{notice("n2", child, day0, byGuardian())}
	later := day0.Add(24 * time.Hour)
	withUntil := consentOf("c", adult, later, byClient(adult))
	withUntil.Until = later.Add(-time.Hour)
	noticeWithPeriod := notice("n", adult, later, byClient(adult))
	noticeWithPeriod.From = later
	tests := []struct {
		name    string
		e       *Expression
		history []*Expression
		want    string // rule codes, comma-separated; "" when sound
	}{
		{"the client acknowledges the notice", notice("n", adult, day0, byClient(adult)), nil, ""},
		{"a professional records the notice on the client's statement", notice("n", adult, day0, byProfessional(RoleClient)), nil, ""},
		{"a guardian acknowledges the notice for a minor", notice("n", child, day0, byGuardian()), nil, ""},
		{"consent after the notice", consentOf("c", adult, later, byClient(adult)), informed, ""},
		{"consent without the notice", consentOf("c", adult, later, byClient(adult)), nil, RuleNotInformed},
		{"consent before the notice was recorded", consentOf("c", adult, day0.Add(-time.Hour), byClient(adult)), informed, RuleNotInformed},
		{"a guardian consents for a minor", consentOf("c", child, later, byGuardian()), childInformed, ""},
		{"consent ending before it starts", withUntil, informed, RulePeriod},
		{"a notice with a period", noticeWithPeriod, nil, RulePeriod},
		{"a prohibition of a document set", prohibition("p", adult, later, byClient(adult), TargetDocument, "1.2.246.10.12345678.95.1"), nil, ""},
		{"a prohibition of a service task", prohibition("p", adult, later, byClient(adult), TargetServiceTask, "24"), nil, ""},
		{"a prohibition of a controller", prohibition("p", adult, later, byClient(adult), TargetController, "1.2.246.10.12345678.10.0"), nil, ""},
		{"a prohibition without a target", &Expression{ClientKey: key(adult), Kind: KindProhibition, RecordedAt: later, Recorder: byClient(adult)}, nil, RuleTarget},
		{"a prohibition of an unknown target kind", prohibition("p", adult, later, byClient(adult), "case", "1.2.3"), nil, RuleTarget},
		{"a prohibition of a document that is not an OID", prohibition("p", adult, later, byClient(adult), TargetDocument, "plan"), nil, RuleTarget},
		{"a prohibition of a service task that is not a code", prohibition("p", adult, later, byClient(adult), TargetServiceTask, "lapsiperheet"), nil, RuleTarget},
		{"a prohibition of a controller outside 1.2.246.10", prohibition("p", adult, later, byClient(adult), TargetController, "1.2.3.4"), nil, RuleTarget},
		{"a consent with a target", &Expression{ClientKey: key(adult), Kind: KindConsent, RecordedAt: later, Recorder: byClient(adult), Target: &Target{Kind: TargetServiceTask, Value: "24"}}, informed, RuleTarget},
		{"a minor sets a prohibition", prohibition("p", child, later, byClient(child), TargetServiceTask, "24"), nil, ""},
		{"a guardian may not set a prohibition for a minor", prohibition("p", child, later, byGuardian(), TargetServiceTask, "24"), nil, RuleGuardian},
		{"nor may a professional on a guardian's statement", prohibition("p", child, later, byProfessional(RoleRepresentative), TargetServiceTask, "24"), nil, RuleGuardian},
		{"a professional on the minor's own statement may", prohibition("p", child, later, byProfessional(RoleClient), TargetServiceTask, "24"), nil, ""},
		{"an adult's legal representative sets a prohibition", prohibition("p", adult, later, byGuardian(), TargetServiceTask, "24"), nil, ""},
		{"the client as recorder must be the client", notice("n", adult, day0, byClient(mum)), nil, RuleRecorder},
		{"a legal representative is another person", notice("n", adult, day0, Recorder{Role: RoleRepresentative, Person: adult}), nil, RuleRecorder},
		{"a professional names the representative whose statement it records", notice("n", adult, day0, func() Recorder { r := byProfessional(RoleRepresentative); r.Representative = ""; return r }()), nil, RuleRecorder},
		{"a professional names no representative for the client's statement", notice("n", adult, day0, func() Recorder { r := byProfessional(RoleClient); r.Representative = mum; return r }()), nil, RuleRecorder},
		{"a recorder's identity code must be valid", notice("n", adult, day0, Recorder{Role: RoleRepresentative, Person: "010101-0000"}), nil, RuleRecorder},
		{"a professional without a unit", notice("n", adult, day0, Recorder{Role: RoleProfessional, Person: "1", System: "s", Organisation: "o", OnStatementOf: RoleClient}), nil, RuleRecorder},
		{"a professional names the guardian whose statement it is", notice("n", child, day0, withRep(byProfessional(RoleRepresentative), mum)), nil, ""},
		{"the named representative is the client", notice("n", child, day0, withRep(byProfessional(RoleRepresentative), child)), nil, RuleRecorder},
		{"the named representative is not an identity code", notice("n", child, day0, withRep(byProfessional(RoleRepresentative), "x")), nil, RuleRecorder},
		{"a guardian recording themself names no representative", notice("n", child, day0, withRep(byGuardian(), mum)), nil, RuleRecorder},
		{"a professional without whose statement", notice("n", adult, day0, Recorder{Role: RoleProfessional, Person: "1", Unit: "1.2.3", System: "s", Organisation: "o"}), nil, RuleRecorder},
		{"a client cannot record in a service unit", notice("n", adult, day0, Recorder{Role: RoleClient, Person: adult, Unit: "1.2.3"}), nil, RuleRecorder},
		{"an unknown recorder role", notice("n", adult, day0, Recorder{Role: "neighbour", Person: mum}), nil, RuleRecorder},
		{"a name with control characters", notice("n", adult, day0, Recorder{Role: RoleClient, Person: adult, Name: "A\u202eB"}), nil, RuleRecorder},
		{"an unknown kind", &Expression{ClientKey: key(adult), Kind: "opinion", RecordedAt: day0, Recorder: byClient(adult)}, nil, RuleKind},
		{"no client", &Expression{Kind: KindNotice, RecordedAt: day0, Recorder: byClient(adult)}, nil, RuleClientIdentity + "," + RuleRecorder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codesOf(Check(tt.e, tt.history)); got != tt.want {
				t.Errorf("rules %q, want %q: %v", got, tt.want, Check(tt.e, tt.history))
			}
		})
	}
}

func TestCheckWithdrawal(t *testing.T) {
	later := day0.Add(48 * time.Hour)
	c := consentOf("c", adult, day0, byClient(adult))
	done := consentOf("c2", adult, day0, byClient(adult))
	done.Withdrawn = &Withdrawal{At: day0.Add(time.Hour), By: byClient(adult)}
	childBan := prohibition("p", child, day0, byClient(child), TargetServiceTask, "24")
	tests := []struct {
		name string
		e    *Expression
		w    Withdrawal
		want string
	}{
		{"the client withdraws a consent", c, Withdrawal{At: later, By: byClient(adult)}, ""},
		{"a professional withdraws it on the client's statement", c, Withdrawal{At: later, By: byProfessional(RoleClient)}, ""},
		{"what is withdrawn stays withdrawn", done, Withdrawal{At: later, By: byClient(adult)}, RuleWithdrawn},
		{"a notice is not withdrawn", notice("n", adult, day0, byClient(adult)), Withdrawal{At: later, By: byClient(adult)}, RuleNoticeIsFinal},
		{"a withdrawal before the expression", c, Withdrawal{At: day0.Add(-time.Hour), By: byClient(adult)}, RulePeriod},
		{"a guardian may not lift a minor's prohibition", childBan, Withdrawal{At: later, By: byGuardian()}, RuleGuardian},
		{"the minor lifts their own prohibition", childBan, Withdrawal{At: later, By: byClient(child)}, ""},
		{"a withdrawal by nobody", c, Withdrawal{At: later}, RuleRecorder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codesOf(CheckWithdrawal(tt.e, tt.w)); got != tt.want {
				t.Errorf("rules %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMinor(t *testing.T) {
	birth := time.Date(2008, 6, 15, 0, 0, 0, 0, time.UTC)
	code := mustCode(birth, 904, 'A')
	if !Minor(key(code), birth.AddDate(18, 0, 0).Add(-time.Second)) {
		t.Error("a day before turning 18 is a minor")
	}
	if Minor(key(code), birth.AddDate(18, 0, 0)) {
		t.Error("on turning 18 no longer a minor")
	}
	if Minor("1.2.246.10.12345678.22.2026|123", day0) {
		t.Error("a temporary identifier carries no birth date")
	}
}

func TestFold(t *testing.T) {
	n := notice("n", adult, day0, byClient(adult))
	c1 := consentOf("c1", adult, day0.Add(time.Hour), byClient(adult))
	c1.Withdrawn = &Withdrawal{At: day0.Add(10 * time.Hour), By: byClient(adult)}
	c2 := consentOf("c2", adult, day0.Add(20*time.Hour), byClient(adult))
	c2.Until = day0.Add(30 * time.Hour)
	p := prohibition("p", adult, day0.Add(2*time.Hour), byClient(adult), TargetServiceTask, "24")
	h := []*Expression{n, c1, c2, p}
	tests := []struct {
		at       time.Duration
		informed bool
		consent  string
		banned   int
	}{
		{-time.Hour, false, "", 0},
		{0, true, "", 0},
		{time.Hour, true, "c1", 0},
		{5 * time.Hour, true, "c1", 1},
		{10 * time.Hour, true, "", 1}, // withdrawn at that instant
		{25 * time.Hour, true, "c2", 1},
		{30 * time.Hour, true, "", 1}, // its end excluded
	}
	for _, tt := range tests {
		s := Fold(h, day0.Add(tt.at))
		got := ""
		if s.Consent != nil {
			got = s.Consent.ID
		}
		if s.Informed != tt.informed || got != tt.consent || len(s.Prohibitions) != tt.banned {
			t.Errorf("at +%v: informed %v consent %q prohibitions %d, want %v %q %d", tt.at, s.Informed, got, len(s.Prohibitions), tt.informed, tt.consent, tt.banned)
		}
	}
}
