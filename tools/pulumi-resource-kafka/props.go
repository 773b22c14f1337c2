package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"google.golang.org/protobuf/types/known/structpb"
)

// Property helpers. Values may arrive secret (unwrapped here) and, for provider configuration,
// JSON-encoded: @pulumi/kafka's Provider sends non-string inputs through JSON.stringify
// (bootstrapServers '["a:9092"]', tlsEnabled "false", timeout "30"), and stack config
// (`kafka:*`) reaches the provider as strings too.

var marshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, marshalOpts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshalOpts)
}

func unsecret(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

// present is true for a key that holds a non-null value.
func present(m resource.PropertyMap, k resource.PropertyKey) bool {
	v, ok := m[k]
	return ok && !unsecret(v).IsNull()
}

func asString(v resource.PropertyValue) (string, error) {
	v = unsecret(v)
	switch {
	case v.IsString():
		return v.StringValue(), nil
	case v.IsNumber():
		return strconv.FormatFloat(v.NumberValue(), 'f', -1, 64), nil
	case v.IsBool():
		return strconv.FormatBool(v.BoolValue()), nil
	}
	return "", fmt.Errorf("expected a string, got %s", v.TypeString())
}

func asBool(v resource.PropertyValue) (bool, error) {
	v = unsecret(v)
	switch {
	case v.IsBool():
		return v.BoolValue(), nil
	case v.IsString():
		b, err := strconv.ParseBool(strings.TrimSpace(v.StringValue()))
		if err != nil {
			return false, fmt.Errorf("expected a boolean, got %q", v.StringValue())
		}
		return b, nil
	}
	return false, fmt.Errorf("expected a boolean, got %s", v.TypeString())
}

func asInt(v resource.PropertyValue) (int, error) {
	v = unsecret(v)
	switch {
	case v.IsNumber():
		n := v.NumberValue()
		if n != math.Trunc(n) || math.Abs(n) > 1<<31 {
			return 0, fmt.Errorf("expected an integer, got %v", n)
		}
		return int(n), nil
	case v.IsString():
		n, err := strconv.Atoi(strings.TrimSpace(v.StringValue()))
		if err != nil {
			return 0, fmt.Errorf("expected an integer, got %q", v.StringValue())
		}
		return n, nil
	}
	return 0, fmt.Errorf("expected an integer, got %s", v.TypeString())
}

// asStringList takes an array, a JSON array in a string, or a comma-separated string.
func asStringList(v resource.PropertyValue) ([]string, error) {
	v = unsecret(v)
	var out []string
	switch {
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			s, err := asString(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	case v.IsString():
		s := strings.TrimSpace(v.StringValue())
		if strings.HasPrefix(s, "[") {
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				return nil, fmt.Errorf("expected a JSON list of strings, got %q", s)
			}
		} else {
			out = strings.Split(s, ",")
		}
	default:
		return nil, fmt.Errorf("expected a list of strings, got %s", v.TypeString())
	}
	var clean []string
	for _, s := range out {
		if s = strings.TrimSpace(s); s != "" {
			clean = append(clean, s)
		}
	}
	return clean, nil
}

// asStringMap takes an object whose values are strings (numbers and booleans are converted).
func asStringMap(v resource.PropertyValue) (map[string]string, error) {
	v = unsecret(v)
	if !v.IsObject() {
		return nil, fmt.Errorf("expected a map of strings, got %s", v.TypeString())
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		if unsecret(e).IsNull() {
			continue
		}
		s, err := asString(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[string(k)] = s
	}
	return out, nil
}

func stringMapProperty(m map[string]string) resource.PropertyValue {
	pm := resource.PropertyMap{}
	for k, v := range m {
		pm[resource.PropertyKey(k)] = resource.NewStringProperty(v)
	}
	return resource.NewObjectProperty(pm)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
