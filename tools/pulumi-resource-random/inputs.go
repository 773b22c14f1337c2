package main

import (
	"fmt"
	"math"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

type failure struct{ property, reason string }

// unsecret strips a secret wrapper (the value, not its secrecy, matters for comparisons).
func unsecret(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

var boolKeys = []resource.PropertyKey{"upper", "lower", "special", "numeric", "number"}
var minKeys = []resource.PropertyKey{"minUpper", "minLower", "minNumeric", "minSpecial"}

// checkInputs validates the inputs and fills in the defaults (every class true, minimums 0,
// number and numeric equal). Unknown values are passed through unchecked.
func checkInputs(news resource.PropertyMap) (resource.PropertyMap, []failure) {
	out := resource.PropertyMap{}
	var failures []failure
	known := map[string]bool{}
	for _, k := range inputKeys {
		known[string(k)] = true
	}
	var extra []string
	for k, v := range news {
		if v.IsNull() {
			continue
		}
		if !known[string(k)] {
			if len(k) >= 2 && k[:2] == "__" { // engine-internal keys such as __defaults
				continue
			}
			extra = append(extra, string(k))
			continue
		}
		out[k] = v
	}
	sort.Strings(extra)
	for _, k := range extra {
		failures = append(failures, failure{k, fmt.Sprintf("unknown property %q (this offline stand-in implements the inputs of @pulumi/random %s)", k, version)})
	}

	isKnown := func(k resource.PropertyKey) bool {
		v, ok := out[k]
		return ok && !v.ContainsUnknowns()
	}
	// Types.
	if v, ok := out["length"]; !ok {
		failures = append(failures, failure{"length", "missing required property 'length'"})
	} else if isKnown("length") {
		if n := unsecret(v); !n.IsNumber() || n.NumberValue() != math.Trunc(n.NumberValue()) {
			failures = append(failures, failure{"length", "length must be an integer"})
		}
	}
	for _, k := range minKeys {
		if v, ok := out[k]; ok && isKnown(k) {
			if n := unsecret(v); !n.IsNumber() || n.NumberValue() != math.Trunc(n.NumberValue()) {
				failures = append(failures, failure{string(k), string(k) + " must be an integer"})
			}
		} else if !ok {
			out[k] = resource.NewNumberProperty(0)
		}
	}
	for _, k := range boolKeys {
		if v, ok := out[k]; ok && isKnown(k) && !unsecret(v).IsBool() {
			failures = append(failures, failure{string(k), string(k) + " must be a boolean"})
		}
	}
	if v, ok := out["overrideSpecial"]; ok && isKnown("overrideSpecial") && !unsecret(v).IsString() {
		failures = append(failures, failure{"overrideSpecial", "overrideSpecial must be a string"})
	}
	if v, ok := out["keepers"]; ok && isKnown("keepers") && !unsecret(v).IsObject() {
		failures = append(failures, failure{"keepers", "keepers must be a map of strings"})
	}
	// number is the deprecated name of numeric: keep both, equal.
	_, hasNumber := out["number"]
	_, hasNumeric := out["numeric"]
	switch {
	case hasNumber && hasNumeric:
		if isKnown("number") && isKnown("numeric") && !unsecret(out["number"]).DeepEquals(unsecret(out["numeric"])) {
			failures = append(failures, failure{"numeric", "number (deprecated) and numeric are both set and differ"})
		}
	case hasNumber:
		out["numeric"] = out["number"]
	case hasNumeric:
		out["number"] = out["numeric"]
	}
	for _, k := range boolKeys {
		if _, ok := out[k]; !ok {
			out[k] = resource.NewBoolProperty(true)
		}
	}
	if len(failures) > 0 {
		return out, failures
	}
	// Cross-field rules, once everything they need is known.
	for _, k := range append([]resource.PropertyKey{"length", "upper", "lower", "numeric", "special"}, minKeys...) {
		if !isKnown(k) {
			return out, nil
		}
	}
	_, f := specOf(out)
	return out, f
}

// specOf reads a generation spec from checked, known inputs.
func specOf(in resource.PropertyMap) (spec, []failure) {
	num := func(k resource.PropertyKey) int {
		if v, ok := in[k]; ok && unsecret(v).IsNumber() {
			return int(unsecret(v).NumberValue())
		}
		return 0
	}
	flag := func(k resource.PropertyKey) bool {
		if v, ok := in[k]; ok && unsecret(v).IsBool() {
			return unsecret(v).BoolValue()
		}
		return true
	}
	s := defaultSpec(num("length"))
	s.Upper, s.Lower, s.Numeric, s.Special = flag("upper"), flag("lower"), flag("numeric"), flag("special")
	s.MinUpper, s.MinLower, s.MinNumeric, s.MinSpecial = num("minUpper"), num("minLower"), num("minNumeric"), num("minSpecial")
	if v, ok := in["overrideSpecial"]; ok && unsecret(v).IsString() {
		s.OverrideSpecial = unsecret(v).StringValue()
	}
	var failures []failure
	problems := s.validate()
	keys := make([]string, 0, len(problems))
	for k := range problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		failures = append(failures, failure{k, problems[k]})
	}
	return s, failures
}
