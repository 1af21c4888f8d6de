package relationship

import "github.com/arkisto/arkisto/internal/formjson"

// The fields of the structured types, as encoding/json matches keys to
// them (no two of a list fold alike).
var (
	topFields      = []string{"asiakkuusasiakirja"}
	docFields      = []string{"asiakkuuden_yksilointitunnus", "sosiaalihuollon_asiakkuus", "sosiaalihuollon_palvelutehtava"}
	valueFields    = []string{"value"}
	periodFields   = []string{"asiakkuuden_alkamispvm", "asiakkuuden_paattymispvm"}
	codeFields     = []string{"code"}
	taskFields     = []string{"palvelutehtava", "palvelunjarjestajan_palveluyksikko", "palveluntuottaja"}
	providerFields = []string{"palveluyksikon_nimi", "asiakkuuden_alkamispvm", "asiakkuuden_paattymispvm", "sosiaalipalvelu"}
	nameFields     = []string{"code", "display"}
)

// decodeFast decodes the structured form from its tape into s as
// json.Unmarshal would: OK, Failed where it would return an error (a value
// of another type than its field's), Unsure where the tape cannot tell (a
// key given twice), which leaves the form to json.Unmarshal. A type error
// anywhere makes json.Unmarshal fail whatever else the form holds, so the
// first result other than OK is the answer.
func decodeFast(t *formjson.Tape, s *structured) formjson.Result {
	present, r := t.IsObject(0)
	if r != formjson.OK || !present {
		return r
	}
	var top [1]int
	if r := t.Fields(0, topFields, top[:]); r != formjson.OK {
		return r
	}
	if present, r = t.IsObject(top[0]); r != formjson.OK || !present {
		return r
	}
	a := new(asiakirja)
	s.Asiakkuusasiakirja = a
	var f [3]int
	if r := t.Fields(top[0], docFields, f[:]); r != formjson.OK {
		return r
	}
	if present, r = t.IsObject(f[0]); r != formjson.OK {
		return r
	} else if present {
		a.Tunnus = new(valueJSON)
		var g [1]int
		if r := t.Fields(f[0], valueFields, g[:]); r != formjson.OK {
			return r
		}
		if r := t.String(g[0], &a.Tunnus.Value); r != formjson.OK {
			return r
		}
	}
	if present, r = t.IsObject(f[1]); r != formjson.OK {
		return r
	} else if present {
		a.Asiakkuus = new(periodJSON)
		var g [2]int
		if r := t.Fields(f[1], periodFields, g[:]); r != formjson.OK {
			return r
		}
		if r := t.String(g[0], &a.Asiakkuus.Alku).And(t.String(g[1], &a.Asiakkuus.Loppu)); r != formjson.OK {
			return r
		}
	}
	if present, r = t.IsArray(f[2]); r != formjson.OK || !present {
		return r
	}
	a.Tehtavat = []taskJSON{}
	return t.Elements(f[2], func(e int) formjson.Result {
		a.Tehtavat = append(a.Tehtavat, taskJSON{})
		return taskFast(t, e, &a.Tehtavat[len(a.Tehtavat)-1])
	})
}

func taskFast(t *formjson.Tape, e int, task *taskJSON) formjson.Result {
	present, r := t.IsObject(e)
	if r != formjson.OK || !present {
		return r // null: a zero task
	}
	var f [3]int
	if r := t.Fields(e, taskFields, f[:]); r != formjson.OK {
		return r
	}
	if present, r = t.IsObject(f[0]); r != formjson.OK {
		return r
	} else if present {
		task.Tehtava = new(codeJSON)
		if r := codeFast(t, f[0], task.Tehtava); r != formjson.OK {
			return r
		}
	}
	if present, r = t.IsArray(f[1]); r != formjson.OK {
		return r
	} else if present {
		task.Yksikot = []unitJSON{}
		if r := t.Elements(f[1], func(u int) formjson.Result {
			task.Yksikot = append(task.Yksikot, unitJSON{})
			var pr providerJSON
			r := providerFast(t, u, &pr, false)
			task.Yksikot[len(task.Yksikot)-1] = pr.unitJSON
			return r
		}); r != formjson.OK {
			return r
		}
	}
	if present, r = t.IsArray(f[2]); r != formjson.OK || !present {
		return r
	}
	task.Tuottajat = []providerJSON{}
	return t.Elements(f[2], func(u int) formjson.Result {
		task.Tuottajat = append(task.Tuottajat, providerJSON{})
		return providerFast(t, u, &task.Tuottajat[len(task.Tuottajat)-1], true)
	})
}

// providerFast decodes a provider, or with services false a unit (which
// has no field sosiaalipalvelu: the key is then an unknown one).
func providerFast(t *formjson.Tape, u int, p *providerJSON, services bool) formjson.Result {
	present, r := t.IsObject(u)
	if r != formjson.OK || !present {
		return r
	}
	fields := providerFields
	if !services {
		fields = fields[:3]
	}
	var f [4]int
	if r := t.Fields(u, fields, f[:len(fields)]); r != formjson.OK {
		return r
	}
	if present, r = t.IsObject(f[0]); r != formjson.OK {
		return r
	} else if present {
		p.Nimi = new(nameJSON)
		var g [2]int
		if r := t.Fields(f[0], nameFields, g[:]); r != formjson.OK {
			return r
		}
		if r := t.String(g[0], &p.Nimi.Code).And(t.String(g[1], &p.Nimi.Display)); r != formjson.OK {
			return r
		}
	}
	if r := t.String(f[1], &p.Alku).And(t.String(f[2], &p.Loppu)); r != formjson.OK || !services {
		return r
	}
	if present, r = t.IsArray(f[3]); r != formjson.OK || !present {
		return r
	}
	p.Palvelut = []codeJSON{}
	return t.Elements(f[3], func(c int) formjson.Result {
		p.Palvelut = append(p.Palvelut, codeJSON{})
		present, r := t.IsObject(c)
		if r != formjson.OK || !present {
			return r
		}
		return codeFast(t, c, &p.Palvelut[len(p.Palvelut)-1])
	})
}

func codeFast(t *formjson.Tape, v int, c *codeJSON) formjson.Result {
	var g [1]int
	if r := t.Fields(v, codeFields, g[:]); r != formjson.OK {
		return r
	}
	return t.String(g[0], &c.Code)
}
