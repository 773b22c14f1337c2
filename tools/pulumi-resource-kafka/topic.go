package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const topicToken = "kafka:index/topic:Topic"

type failure struct{ property, reason string }

var topicKeys = map[resource.PropertyKey]bool{"name": true, "partitions": true, "replicationFactor": true, "config": true}

// Kafka's own rule for topic names.
var topicNameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// autoName is what an unnamed topic gets: the resource name plus a suffix that is stable for
// a given random seed (the engine supplies the same seed for the same resource).
func autoName(urnName string, seed []byte) string {
	h := sha256.Sum256(append([]byte(urnName+"\x00"), seed...))
	return urnName + "-" + hex.EncodeToString(h[:])[:7]
}

// checkTopic validates the inputs, names an unnamed topic and normalises config values to strings.
func checkTopic(urnName string, olds, news resource.PropertyMap, seed []byte) (resource.PropertyMap, []failure) {
	out := resource.PropertyMap{}
	var failures []failure
	fail := func(k, format string, a ...any) { failures = append(failures, failure{k, fmt.Sprintf(format, a...)}) }
	var extra []string
	for k, v := range news {
		if unsecret(v).IsNull() || len(k) >= 2 && k[:2] == "__" {
			continue
		}
		if !topicKeys[k] {
			extra = append(extra, string(k))
			continue
		}
		out[k] = v
	}
	sort.Strings(extra)
	for _, k := range extra {
		fail(k, "unknown property %q (this offline stand-in implements name, partitions, replicationFactor and config)", k)
	}
	if !present(out, "name") {
		if present(olds, "name") {
			out["name"] = olds["name"]
		} else {
			out["name"] = resource.NewStringProperty(autoName(urnName, seed))
		}
	}
	if v := out["name"]; !v.ContainsUnknowns() {
		if s, err := asString(v); err != nil || !unsecret(v).IsString() {
			fail("name", "name must be a string")
		} else if len(s) == 0 || len(s) > 249 || s == "." || s == ".." || !topicNameRE.MatchString(s) {
			fail("name", "%q is not a valid Kafka topic name (1-249 of [a-zA-Z0-9._-], not . or ..)", s)
		}
	}
	for _, k := range []resource.PropertyKey{"partitions", "replicationFactor"} {
		v, ok := out[k]
		switch {
		case !ok:
			fail(string(k), "missing required property '%s'", k)
		case v.ContainsUnknowns():
		default:
			n, err := asInt(v)
			max := 1 << 31
			if k == "replicationFactor" {
				max = 1<<15 - 1
			}
			if err != nil || !unsecret(v).IsNumber() {
				fail(string(k), "%s must be an integer", k)
			} else if n < 1 || n >= max {
				fail(string(k), "%s must be between 1 and %d, got %d", k, max-1, n)
			}
		}
	}
	if v, ok := out["config"]; ok && !v.ContainsUnknowns() {
		if m, err := asStringMap(v); err != nil {
			fail("config", "config: %v", err)
		} else {
			out["config"] = stringMapProperty(m)
		}
	}
	return out, failures
}

// topicOf reads a topic from known properties (inputs or state).
func topicOf(m resource.PropertyMap) (topicState, error) {
	t := topicState{Config: map[string]string{}}
	var err error
	if t.Name, err = asString(m["name"]); err != nil {
		return t, fmt.Errorf("name: %w", err)
	}
	if t.Partitions, err = asInt(m["partitions"]); err != nil {
		return t, fmt.Errorf("partitions: %w", err)
	}
	if t.ReplicationFactor, err = asInt(m["replicationFactor"]); err != nil {
		return t, fmt.Errorf("replicationFactor: %w", err)
	}
	if present(m, "config") {
		if t.Config, err = asStringMap(m["config"]); err != nil {
			return t, fmt.Errorf("config: %w", err)
		}
	}
	return t, nil
}

// topicProps is the state of a topic; config is left out when it is empty and was not given.
func topicProps(t topicState, withEmptyConfig bool) resource.PropertyMap {
	m := resource.PropertyMap{
		"name":              resource.NewStringProperty(t.Name),
		"partitions":        resource.NewNumberProperty(float64(t.Partitions)),
		"replicationFactor": resource.NewNumberProperty(float64(t.ReplicationFactor)),
	}
	if len(t.Config) > 0 || withEmptyConfig {
		m["config"] = stringMapProperty(t.Config)
	}
	return m
}

// diffTopic compares the old state with the new inputs. name and replicationFactor force a
// replacement, as does a partition decrease (Kafka cannot remove partitions); a partition
// increase and config changes are updates. Replacements delete first: the name is the identity.
func diffTopic(olds, news resource.PropertyMap, ignore map[string]bool) *pulumirpc.DiffResponse {
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	mark := func(k string, replace bool) {
		resp.Diffs = append(resp.Diffs, k)
		kind := pulumirpc.PropertyDiff_UPDATE
		if replace {
			kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
			resp.Replaces = append(resp.Replaces, k)
		}
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	// name and replicationFactor
	for _, k := range []resource.PropertyKey{"name", "replicationFactor"} {
		if ignore[string(k)] {
			continue
		}
		o, n := olds[k], news[k]
		if n.ContainsUnknowns() {
			mark(string(k), true)
			continue
		}
		os, oerr := asString(o)
		ns, nerr := asString(n)
		if oerr != nil || nerr != nil || os != ns {
			mark(string(k), true)
		}
	}
	// partitions
	if !ignore["partitions"] {
		n := news["partitions"]
		if n.ContainsUnknowns() {
			mark("partitions", false)
		} else {
			on, oerr := asInt(olds["partitions"])
			nn, nerr := asInt(n)
			switch {
			case oerr != nil || nerr != nil:
				mark("partitions", true)
			case nn < on:
				mark("partitions", true)
			case nn > on:
				mark("partitions", false)
			}
		}
	}
	// config
	if !ignore["config"] {
		n := news["config"]
		if n.ContainsUnknowns() {
			mark("config", false)
		} else {
			oc, ncfg := map[string]string{}, map[string]string{}
			if present(olds, "config") {
				oc, _ = asStringMap(olds["config"])
			}
			if present(news, "config") {
				ncfg, _ = asStringMap(news["config"])
			}
			if set, remove := configDelta(oc, ncfg); len(set) > 0 || len(remove) > 0 {
				mark("config", false)
			}
		}
	}
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		sort.Strings(resp.Diffs)
		sort.Strings(resp.Replaces)
		resp.DeleteBeforeReplace = len(resp.Replaces) > 0
	}
	return resp
}

// configDelta lists the keys to set (new or changed) and to remove.
func configDelta(olds, news map[string]string) (map[string]string, []string) {
	set := map[string]string{}
	for k, v := range news {
		if ov, ok := olds[k]; !ok || ov != v {
			set[k] = v
		}
	}
	var remove []string
	for k := range olds {
		if _, ok := news[k]; !ok {
			remove = append(remove, k)
		}
	}
	sort.Strings(remove)
	return set, remove
}
