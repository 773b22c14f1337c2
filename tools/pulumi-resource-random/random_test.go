package main

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
)

func count(s, chars string) int {
	n := 0
	for _, c := range s {
		if strings.ContainsRune(chars, c) {
			n++
		}
	}
	return n
}

func TestGenerateRespectsClassesAndMinimums(t *testing.T) {
	for i := 0; i < 200; i++ {
		s := spec{Length: 12, Upper: true, Lower: true, Numeric: true, Special: true,
			MinUpper: 3, MinLower: 2, MinNumeric: 4, MinSpecial: 1}
		v, err := generate(s, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 12 {
			t.Fatalf("length %d", len(v))
		}
		if count(v, upperChars) < 3 || count(v, lowerChars) < 2 || count(v, numericChars) < 4 || count(v, defaultSpecialChars) < 1 {
			t.Fatalf("minimums not met: %q", v)
		}
		if count(v, upperChars+lowerChars+numericChars+defaultSpecialChars) != 12 {
			t.Fatalf("unexpected characters: %q", v)
		}
	}
}

func TestGenerateDisabledClassesNeverAppear(t *testing.T) {
	s := defaultSpec(756) // the project's MongoDB keyfile: special false
	s.Special = false
	v, err := generate(s, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 756 || count(v, defaultSpecialChars) != 0 {
		t.Fatalf("got %d chars, %d special", len(v), count(v, defaultSpecialChars))
	}
	s = defaultSpec(64)
	s.Upper, s.Lower, s.Special = false, false, false
	v, _ = generate(s, rand.Reader)
	if count(v, numericChars) != 64 {
		t.Fatalf("numeric only: %q", v)
	}
}

func TestGenerateOverrideSpecial(t *testing.T) {
	s := defaultSpec(40)
	s.Upper, s.Lower, s.Numeric = false, false, false
	s.OverrideSpecial = "_%"
	v, err := generate(s, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if count(v, "_%") != 40 {
		t.Fatalf("override special: %q", v)
	}
}

func TestGenerateIsRandom(t *testing.T) {
	a, _ := generate(defaultSpec(32), rand.Reader)
	b, _ := generate(defaultSpec(32), rand.Reader)
	if a == b {
		t.Fatalf("two values equal: %q", a)
	}
}

func TestValidate(t *testing.T) {
	s := defaultSpec(3)
	s.MinUpper, s.MinLower = 2, 2
	if _, err := generate(s, rand.Reader); err == nil || !strings.Contains(err.Error(), "sum of the enabled minimums") {
		t.Fatalf("want minimum error, got %v", err)
	}
	s = defaultSpec(3)
	s.Upper, s.Lower, s.Numeric, s.Special = false, false, false, false
	if _, err := generate(s, rand.Reader); err == nil {
		t.Fatal("want an error with every class disabled")
	}
	if _, err := generate(defaultSpec(0), rand.Reader); err == nil {
		t.Fatal("want an error for length 0")
	}
	// A disabled class's minimum does not count (as upstream).
	s = defaultSpec(4)
	s.Upper, s.MinUpper = false, 10
	if _, err := generate(s, rand.Reader); err != nil {
		t.Fatal(err)
	}
}

func TestCheckInputsDefaultsAndFailures(t *testing.T) {
	out, f := checkInputs(resource.PropertyMap{"length": resource.NewNumberProperty(32), "special": resource.NewBoolProperty(false)})
	if len(f) != 0 {
		t.Fatalf("failures: %v", f)
	}
	for _, k := range []resource.PropertyKey{"upper", "lower", "numeric", "number"} {
		if !out[k].BoolValue() {
			t.Fatalf("%s should default to true", k)
		}
	}
	if out["special"].BoolValue() || out["minUpper"].NumberValue() != 0 {
		t.Fatalf("bad defaults: %v", out)
	}
	if _, f = checkInputs(resource.PropertyMap{}); len(f) != 1 || f[0].property != "length" {
		t.Fatalf("want missing length, got %v", f)
	}
	if _, f = checkInputs(resource.PropertyMap{"length": resource.NewNumberProperty(2), "minNumeric": resource.NewNumberProperty(3)}); len(f) != 1 {
		t.Fatalf("want a minimum failure, got %v", f)
	}
	if _, f = checkInputs(resource.PropertyMap{"length": resource.NewNumberProperty(8), "bogus": resource.NewBoolProperty(true)}); len(f) != 1 || f[0].property != "bogus" {
		t.Fatalf("want an unknown-property failure, got %v", f)
	}
	// Unknown length: no cross-field failure.
	if _, f = checkInputs(resource.PropertyMap{"length": resource.MakeComputed(resource.NewStringProperty(""))}); len(f) != 0 {
		t.Fatalf("unknown length: %v", f)
	}
	out, _ = checkInputs(resource.PropertyMap{"length": resource.NewNumberProperty(8), "number": resource.NewBoolProperty(false)})
	if out["numeric"].BoolValue() {
		t.Fatal("number=false must carry over to numeric")
	}
}

func TestChangedInputs(t *testing.T) {
	olds := resource.PropertyMap{"length": resource.NewNumberProperty(32), "keepers": resource.NewObjectProperty(resource.PropertyMap{"a": resource.NewStringProperty("1")})}
	same := olds.Copy()
	if c := changedInputs(olds, same, nil); len(c) != 0 {
		t.Fatalf("no change expected, got %v", c)
	}
	news := olds.Copy()
	news["keepers"] = resource.NewObjectProperty(resource.PropertyMap{"a": resource.NewStringProperty("2")})
	news["length"] = resource.MakeSecret(resource.NewNumberProperty(32)) // secrecy alone is no change
	if c := changedInputs(olds, news, nil); len(c) != 1 || c[0] != "keepers" {
		t.Fatalf("want keepers, got %v", c)
	}
	news["length"] = resource.MakeComputed(resource.NewStringProperty(""))
	if c := changedInputs(olds, news, map[string]bool{"keepers": true}); len(c) != 1 || c[0] != "length" {
		t.Fatalf("want length, got %v", c)
	}
}

func TestCreatePasswordReturnsSecrets(t *testing.T) {
	p := &randomProvider{}
	in, _ := checkInputs(resource.PropertyMap{"length": resource.NewNumberProperty(100), "special": resource.NewBoolProperty(false)})
	props, err := marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: "urn:pulumi:dev::proj::random:index/randomPassword:RandomPassword::pw", Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	out, err := unmarshal(resp.GetProperties())
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetId() != "none" || !out["result"].IsSecret() || !out["bcryptHash"].IsSecret() {
		t.Fatalf("id %q, result secret %v, bcryptHash secret %v", resp.GetId(), out["result"].IsSecret(), out["bcryptHash"].IsSecret())
	}
	value := unsecret(out["result"]).StringValue()
	if len(value) != 100 || count(value, defaultSpecialChars) != 0 {
		t.Fatalf("bad value %q", value)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(unsecret(out["bcryptHash"]).StringValue()), []byte(value[:72])); err != nil {
		t.Fatalf("bcryptHash does not match: %v", err)
	}

	// Preview: outputs unknown, nothing generated.
	resp, err = p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: "urn:pulumi:dev::proj::random:index/randomPassword:RandomPassword::pw", Properties: props, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	out, _ = unmarshal(resp.GetProperties())
	if !out["result"].IsComputed() {
		t.Fatalf("preview result should be unknown: %v", out["result"])
	}
}

func TestCreateStringIsPlainWithValueAsID(t *testing.T) {
	p := &randomProvider{}
	in, _ := checkInputs(resource.PropertyMap{"length": resource.NewNumberProperty(8)})
	props, _ := marshal(in)
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: "urn:pulumi:dev::proj::random:index/randomString:RandomString::s", Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := unmarshal(resp.GetProperties())
	if out["result"].IsSecret() || out["result"].StringValue() != resp.GetId() {
		t.Fatalf("result %v id %q", out["result"], resp.GetId())
	}
}

func TestUnsupportedTypeIsRefused(t *testing.T) {
	_, err := (&randomProvider{}).Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: "urn:pulumi:dev::proj::random:index/randomUuid:RandomUuid::u"})
	if err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Fatalf("want not implemented, got %v", err)
	}
}
