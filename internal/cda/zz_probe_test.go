package cda

import (
	"encoding/json"
	"os"
	"testing"
)

func TestZZProbe(t *testing.T) {
	for _, n := range []string{"asiakkuusasiakirja_S", "asia_ja_rajoitukset_S"} {
		b, _ := os.ReadFile("../../testdata/kanta/" + n + ".xml")
		d, p := Read(b, Options{})
		j, _ := json.MarshalIndent(d.Header, "", "  ")
		t.Logf("%s problems=%v\n%s\nbody %s %d %s %d", n, p, j, d.Body.DisplayMediaType, len(d.Body.Display), d.Body.StructuredMediaType, len(d.Body.Structured))
	}
}
