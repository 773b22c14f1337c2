package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// Character classes, as documented for @pulumi/random (RandomPassword / RandomString).
const (
	upperChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerChars   = "abcdefghijklmnopqrstuvwxyz"
	numericChars = "0123456789"
	// The documented default special characters, used unless overrideSpecial is set.
	defaultSpecialChars = "!@#$%&*()-_=+[]{}<>:?"
)

// maxLength bounds a generated value; far above anything a program sensibly asks for.
const maxLength = 1 << 16

// spec says what to generate. The zero value is not useful: see defaultSpec.
type spec struct {
	Length int

	Upper, Lower, Numeric, Special             bool
	MinUpper, MinLower, MinNumeric, MinSpecial int

	// OverrideSpecial replaces defaultSpecialChars when non-empty.
	OverrideSpecial string
}

// defaultSpec has every character class enabled and no minimums, like the upstream defaults.
func defaultSpec(length int) spec {
	return spec{Length: length, Upper: true, Lower: true, Numeric: true, Special: true}
}

type class struct {
	name    string
	chars   string
	enabled bool
	min     int
}

func (s spec) classes() []class {
	special := defaultSpecialChars
	if s.OverrideSpecial != "" {
		special = s.OverrideSpecial
	}
	return []class{
		{"upper", upperChars, s.Upper, s.MinUpper},
		{"lower", lowerChars, s.Lower, s.MinLower},
		{"numeric", numericChars, s.Numeric, s.MinNumeric},
		{"special", special, s.Special, s.MinSpecial},
	}
}

// validate returns one message per problem; property names are the SDK's.
func (s spec) validate() map[string]string {
	problems := map[string]string{}
	if s.Length < 1 {
		problems["length"] = fmt.Sprintf("length must be at least 1, got %d", s.Length)
	} else if s.Length > maxLength {
		problems["length"] = fmt.Sprintf("length must be at most %d, got %d", maxLength, s.Length)
	}
	for _, c := range []struct {
		prop string
		v    int
	}{{"minUpper", s.MinUpper}, {"minLower", s.MinLower}, {"minNumeric", s.MinNumeric}, {"minSpecial", s.MinSpecial}} {
		if c.v < 0 {
			problems[c.prop] = fmt.Sprintf("%s must not be negative, got %d", c.prop, c.v)
		}
	}
	sum := 0
	anyEnabled := false
	for _, c := range s.classes() {
		if c.enabled {
			anyEnabled = true
			if c.min > 0 {
				sum += c.min
			}
		}
	}
	if !anyEnabled {
		problems["length"] = "at least one of upper, lower, numeric and special must be true"
	} else if s.Length >= 1 && sum > s.Length {
		problems["length"] = fmt.Sprintf("length (%d) is less than the sum of the enabled minimums (%d)", s.Length, sum)
	}
	return problems
}

// generate returns a random value for s, reading randomness from r (crypto/rand.Reader in
// production). The minimum of each enabled class is met first, the rest is drawn from the union
// of the enabled classes, and the result is shuffled. As upstream, a class's minimum only counts
// when the class is enabled.
func generate(s spec, r io.Reader) (string, error) {
	if problems := s.validate(); len(problems) > 0 {
		for _, p := range []string{"length", "minUpper", "minLower", "minNumeric", "minSpecial"} {
			if msg, ok := problems[p]; ok {
				return "", errors.New(msg)
			}
		}
	}
	out := make([]byte, 0, s.Length)
	all := ""
	for _, c := range s.classes() {
		if !c.enabled {
			continue
		}
		all += c.chars
		for i := 0; i < c.min; i++ {
			b, err := pick(c.chars, r)
			if err != nil {
				return "", err
			}
			out = append(out, b)
		}
	}
	for len(out) < s.Length {
		b, err := pick(all, r)
		if err != nil {
			return "", err
		}
		out = append(out, b)
	}
	// Fisher-Yates, so that the minimum characters are not all at the front.
	for i := len(out) - 1; i > 0; i-- {
		j, err := randInt(i+1, r)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

func pick(chars string, r io.Reader) (byte, error) {
	i, err := randInt(len(chars), r)
	if err != nil {
		return 0, err
	}
	return chars[i], nil
}

// randInt is uniform in [0, n).
func randInt(n int, r io.Reader) (int, error) {
	v, err := rand.Int(r, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("reading random bytes: %w", err)
	}
	return int(v.Int64()), nil
}
