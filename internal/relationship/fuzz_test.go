package relationship

import (
	"testing"
)

func FuzzRead(f *testing.F) {
	d, js := sample(f)
	f.Add(js)
	f.Add([]byte(`{"asiakkuusasiakirja":{}}`))
	f.Add([]byte(`{"asiakkuusasiakirja":{"sosiaalihuollon_palvelutehtava":[{"palvelutehtava":{"code":"24"},"palveluntuottaja":[{"palveluyksikon_nimi":{"code":"1.2.246.10.1.10.1"},"asiakkuuden_paattymispvm":"2020-01-01"}]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, probs := Read(&d.Header, data)
		if probs == nil {
			if r == nil || r.ID == "" || len(r.Tasks) == 0 {
				t.Fatalf("accepted an incomplete relationship: %+v", r)
			}
			for _, task := range r.Tasks {
				for _, p := range task.Providers {
					if p.Organisation == "" {
						t.Fatal("accepted a provider without an organisation")
					}
				}
			}
		}
	})
}
