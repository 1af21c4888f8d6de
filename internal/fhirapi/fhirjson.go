package fhirapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// object is a JSON object of a request resource read strictly: the reader
// takes each member it knows, and done refuses whatever is left, by its
// FHIR path. Resources the archive keeps a meaning of (Consent, a
// disclosure notice, $withdraw Parameters) are read this way, so that no
// element the sender meant is silently dropped.
type object struct {
	path    string
	rule    string // the rule code of an element the archive does not take or of the wrong JSON type
	members map[string]json.RawMessage
	taken   map[string]bool
}

// structErr is a 400 for a body element of the wrong shape.
func structErr(rule, expr, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: "structure", expr: expr, rule: rule, msg: expr + ": " + fmt.Sprintf(format, args...)}
}

// valueErr is a 400 for an element whose value breaks a rule.
func valueErr(rule, expr, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: "value", expr: expr, rule: rule, msg: expr + ": " + fmt.Sprintf(format, args...)}
}

// readObject reads raw as a JSON object. FHIR JSON has no null and no
// empty objects.
func readObject(raw json.RawMessage, path, rule string) (*object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, structErr(rule, path, "must be a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, structErr(rule, path, "is not a JSON object: %v", err)
	}
	if len(m) == 0 {
		return nil, structErr(rule, path, "an empty object is not FHIR JSON; leave the element out")
	}
	return &object{path: path, rule: rule, members: m, taken: map[string]bool{}}, nil
}

func (o *object) at(key string) string { return o.path + "." + key }

// has reports whether the member is present, without taking it.
func (o *object) has(key string) bool { _, ok := o.members[key]; return ok }

// take returns a member's raw value and marks it read; null is refused.
func (o *object) take(key string, required bool) (json.RawMessage, bool, error) {
	raw, ok := o.members[key]
	if !ok {
		if required {
			return nil, false, &badRequest{status: http.StatusBadRequest, code: "required", expr: o.at(key), rule: o.rule, msg: o.at(key) + ": required"}
		}
		return nil, false, nil
	}
	o.taken[key] = true
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, false, structErr(o.rule, o.at(key), "null is not FHIR JSON; leave the element out")
	}
	return raw, true, nil
}

// str reads a string member: FHIR strings are not empty and not only
// white space.
func (o *object) str(key string, required bool) (string, error) {
	raw, ok, err := o.take(key, required)
	if !ok || err != nil {
		return "", err
	}
	var s string
	if bytes.TrimSpace(raw)[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", structErr(o.rule, o.at(key), "must be a JSON string")
	}
	if strings.TrimSpace(s) == "" {
		return "", structErr(o.rule, o.at(key), "an empty string is not FHIR JSON; leave the element out")
	}
	return s, nil
}

// boolean reads a boolean member.
func (o *object) boolean(key string) (*bool, error) {
	raw, ok, err := o.take(key, false)
	if !ok || err != nil {
		return nil, err
	}
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		return nil, structErr(o.rule, o.at(key), "must be true or false")
	}
	return &b, nil
}

// obj reads an object member.
func (o *object) obj(key string, required bool) (*object, error) {
	raw, ok, err := o.take(key, required)
	if !ok || err != nil {
		return nil, err
	}
	return readObject(raw, o.at(key), o.rule)
}

// objs reads an array of objects; an empty array is not FHIR JSON.
func (o *object) objs(key string, required bool) ([]*object, error) {
	raw, ok, err := o.take(key, required)
	if !ok || err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if bytes.TrimSpace(raw)[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, structErr(o.rule, o.at(key), "must be a JSON array")
	}
	if len(items) == 0 {
		return nil, structErr(o.rule, o.at(key), "an empty array is not FHIR JSON; leave the element out")
	}
	out := make([]*object, len(items))
	for i, it := range items {
		if out[i], err = readObject(it, fmt.Sprintf("%s[%d]", o.at(key), i), o.rule); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// one reads an array that must hold exactly one object, under rule.
func (o *object) one(key string, required bool, rule, what string) (*object, error) {
	items, err := o.objs(key, required)
	if err != nil || items == nil {
		return nil, err
	}
	if len(items) != 1 {
		return nil, valueErr(rule, o.at(key), "holds exactly one %s, not %d", what, len(items))
	}
	return items[0], nil
}

// refuse refuses a present member with a reason, before done would.
func (o *object) refuse(key, rule, format string, args ...any) error {
	if !o.has(key) {
		return nil
	}
	return &badRequest{status: http.StatusBadRequest, code: "not-supported", expr: o.at(key), rule: rule, msg: o.at(key) + ": " + fmt.Sprintf(format, args...)}
}

// done refuses the first member (by name) that no reader took.
func (o *object) done() error {
	var left []string
	for k := range o.members {
		if !o.taken[k] {
			left = append(left, k)
		}
	}
	if len(left) == 0 {
		return nil
	}
	sort.Strings(left)
	k := left[0]
	expr := o.at(k)
	if !isName(k) {
		expr = o.path + "[" + strconv.Quote(clip(k)) + "]"
	}
	return &badRequest{status: http.StatusBadRequest, code: "not-supported", expr: expr, rule: o.rule,
		msg: expr + ": the archive does not take this element here (docs/api.md lists what it takes); it is refused rather than dropped"}
}

// coding reads a Coding: system and code, with an informational display.
func (o *object) coding() (system, code string, err error) {
	if system, err = o.str("system", true); err != nil {
		return
	}
	if code, err = o.str("code", true); err != nil {
		return
	}
	if _, err = o.str("display", false); err != nil {
		return
	}
	err = o.done()
	return
}

// concept reads a CodeableConcept of exactly one coding.
func (o *object) concept(rule, what string) (system, code string, err error) {
	c, err := o.one("coding", true, rule, what)
	if err != nil {
		return "", "", err
	}
	if system, code, err = c.coding(); err != nil {
		return "", "", err
	}
	if _, err = o.str("text", false); err != nil {
		return "", "", err
	}
	return system, code, o.done()
}

// identifier reads an Identifier: system and value.
func (o *object) identifier() (system, value string, err error) {
	if system, err = o.str("system", true); err != nil {
		return
	}
	if value, err = o.str("value", true); err != nil {
		return
	}
	err = o.done()
	return
}

// ref is a Reference by identifier: the archive holds no Patient,
// RelatedPerson or Organization resources to point at.
type ref struct {
	typ, system, value string
	display            string // informational
	path               string // of the identifier
}

// reference reads a Reference by type and identifier, with an
// informational display; a literal reference is refused.
func (o *object) reference() (ref, error) {
	var r ref
	if err := o.refuse("reference", o.rule, "give it by identifier: the archive holds no such resources to refer to"); err != nil {
		return r, err
	}
	var err error
	if r.typ, err = o.str("type", false); err != nil {
		return r, err
	}
	if r.display, err = o.str("display", false); err != nil {
		return r, err
	}
	id, err := o.obj("identifier", true)
	if err != nil {
		return r, err
	}
	r.path = id.path
	if r.system, r.value, err = id.identifier(); err != nil {
		return r, err
	}
	return r, o.done()
}
