// pulumi-resource-random: an offline stand-in for the Pulumi "random" provider.
//
// The module proxy reachable from this project's machines refuses
// github.com/pulumi/pulumi-random/provider/v4, so this small provider of our own implements the
// subset of @pulumi/random 4.21.1 that k8s-platform uses: RandomPassword (and RandomString).
// It speaks the ordinary resource provider gRPC protocol (pulumirpc.ResourceProviderServer) and
// reports version 4.21.1 so that the engine accepts it for @pulumi/random 4.21.1. It is not the
// upstream provider: the values differ (fresh randomness), other resources are refused.
//
// Semantics, matching what the SDK documents for these resources:
//   - inputs: length (required), upper, lower, numeric (deprecated alias: number), special
//     (all default true), minUpper/minLower/minNumeric/minSpecial (default 0), overrideSpecial,
//     keepers (map of strings whose change forces a new value);
//   - outputs: the inputs plus result (and, for RandomPassword, bcryptHash), both secret for
//     RandomPassword; generated with crypto/rand;
//   - any input change replaces the resource (a new value); Read returns the state unchanged;
//     import takes the value as the ID.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is what GetPluginInfo reports: the @pulumi/random release this stand-in serves.
// Overridable with -ldflags "-X main.version=...".
var version = "4.21.1"

const (
	providerName   = "random"
	passwordToken  = "random:index/randomPassword:RandomPassword"
	stringToken    = "random:index/randomString:RandomString"
	passwordIDNone = "none" // upstream's ID for RandomPassword
)

// inputKeys are the input properties shared by RandomPassword and RandomString.
var inputKeys = []resource.PropertyKey{
	"keepers", "length", "lower", "minLower", "minNumeric", "minSpecial", "minUpper",
	"number", "numeric", "overrideSpecial", "special", "upper",
}

func main() {
	if err := provider.Main(providerName, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &randomProvider{}, nil
	}); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-random: %v\n", err)
		os.Exit(1)
	}
}

type randomProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
}

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

// kind says which resource a type token or URN is about; the bool is false for others.
func kindOf(token string) (isPassword bool, ok bool) {
	switch token {
	case passwordToken:
		return true, true
	case stringToken:
		return false, true
	}
	return false, false
}

func resourceKind(urn string, typ string) (bool, error) {
	if typ == "" {
		typ = string(resource.URN(urn).Type())
	}
	isPassword, ok := kindOf(typ)
	if !ok {
		return false, status.Errorf(codes.Unimplemented,
			"random (offline stand-in %s): resource type %q is not implemented; only %s and %s are",
			version, typ, passwordToken, stringToken)
	}
	return isPassword, nil
}

func (p *randomProvider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *randomProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *randomProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, providerName, version)}, nil
}

func (p *randomProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *randomProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *randomProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (p *randomProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *randomProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if _, err := resourceKind(req.GetUrn(), req.GetType()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	checked, failures := checkInputs(news)
	resp := &pulumirpc.CheckResponse{}
	for _, f := range failures {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: f.property, Reason: f.reason})
	}
	if resp.Inputs, err = marshal(checked); err != nil {
		return nil, err
	}
	return resp, nil
}

func (p *randomProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if _, err := resourceKind(req.GetUrn(), req.GetType()); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if req.GetOldInputs() == nil {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignored[k] = true
	}
	changed := changedInputs(olds, news, ignored)
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	if len(changed) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.Diffs = changed
		resp.Replaces = changed // every input forces a new value
		for _, k := range changed {
			kind := pulumirpc.PropertyDiff_UPDATE_REPLACE
			if _, had := olds[resource.PropertyKey(k)]; !had {
				kind = pulumirpc.PropertyDiff_ADD_REPLACE
			} else if _, has := news[resource.PropertyKey(k)]; !has {
				kind = pulumirpc.PropertyDiff_DELETE_REPLACE
			}
			resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
		}
	}
	return resp, nil
}

// changedInputs lists the input keys whose values differ (an unknown new value counts as a change).
func changedInputs(olds, news resource.PropertyMap, ignored map[string]bool) []string {
	var changed []string
	for _, k := range inputKeys {
		if ignored[string(k)] {
			continue
		}
		o, hadOld := olds[k]
		n, hasNew := news[k]
		if hadOld && o.IsNull() {
			hadOld = false
		}
		if hasNew && n.IsNull() {
			hasNew = false
		}
		switch {
		case !hadOld && !hasNew:
		case hadOld != hasNew, n.ContainsUnknowns(), !unsecret(o).DeepEquals(unsecret(n)):
			changed = append(changed, string(k))
		}
	}
	sort.Strings(changed)
	return changed
}

func (p *randomProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	isPassword, err := resourceKind(req.GetUrn(), req.GetType())
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	outs := inputs.Copy()
	if req.GetPreview() {
		outs["result"] = resource.MakeComputed(resource.NewStringProperty(""))
		if isPassword {
			outs["bcryptHash"] = resource.MakeComputed(resource.NewStringProperty(""))
		}
		props, err := marshal(outs)
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	s, failures := specOf(inputs)
	if len(failures) > 0 {
		return nil, fmt.Errorf("%s: %s", failures[0].property, failures[0].reason)
	}
	value, err := generate(s, rand.Reader)
	if err != nil {
		return nil, err
	}
	id, err := setResult(outs, value, isPassword)
	if err != nil {
		return nil, err
	}
	props, err := marshal(outs)
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, err
}

// setResult stores value (and its bcrypt hash for passwords) and returns the resource ID.
func setResult(outs resource.PropertyMap, value string, isPassword bool) (string, error) {
	if !isPassword {
		outs["result"] = resource.NewStringProperty(value)
		return value, nil
	}
	hash, err := bcryptHash(value)
	if err != nil {
		return "", err
	}
	outs["result"] = resource.MakeSecret(resource.NewStringProperty(value))
	outs["bcryptHash"] = resource.MakeSecret(resource.NewStringProperty(hash))
	return passwordIDNone, nil
}

// bcryptHash hashes value with bcrypt at the default cost. bcrypt only ever uses the first 72
// bytes of its input, and x/crypto refuses longer inputs outright, so longer values are hashed by
// their first 72 bytes (which is what a bcrypt check of the full value compares anyway).
func bcryptHash(value string) (string, error) {
	b := []byte(value)
	if len(b) > 72 {
		b = b[:72]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return string(h), nil
}

func (p *randomProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	isPassword, err := resourceKind(req.GetUrn(), req.GetType())
	if err != nil {
		return nil, err
	}
	props, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetInputs())
	if err != nil {
		return nil, err
	}
	id := req.GetId()
	if _, has := props["result"]; !has {
		// Import: the ID is the value (as upstream). Describe it with the defaults.
		if id == "" {
			return &pulumirpc.ReadResponse{}, nil
		}
		inputs = resource.PropertyMap{
			"length": resource.NewNumberProperty(float64(len(id))),
		}
		inputs, _ = checkInputs(inputs)
		props = inputs.Copy()
		if id, err = setResult(props, id, isPassword); err != nil {
			return nil, err
		}
	} else if len(inputs) == 0 {
		inputs = resource.PropertyMap{}
		for _, k := range inputKeys {
			if v, ok := props[k]; ok {
				inputs[k] = v
			}
		}
	}
	// The value never changes outside Pulumi: the state is returned as it is.
	mprops, err := marshal(props)
	if err != nil {
		return nil, err
	}
	minputs, err := marshal(inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: id, Properties: mprops, Inputs: minputs}, nil
}

// Update is only reached when no input changed (every input change replaces): keep the value.
func (p *randomProvider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if _, err := resourceKind(req.GetUrn(), req.GetType()); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	outs := olds.Copy()
	for _, k := range inputKeys {
		if v, ok := news[k]; ok {
			outs[k] = v
		} else {
			delete(outs, k)
		}
	}
	props, err := marshal(outs)
	return &pulumirpc.UpdateResponse{Properties: props}, err
}

func (p *randomProvider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if _, err := resourceKind(req.GetUrn(), req.GetType()); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil // nothing exists outside the state
}
