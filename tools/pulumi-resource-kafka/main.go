// pulumi-resource-kafka: an offline stand-in for the Pulumi "kafka" provider.
//
// The module proxy reachable from this project's machines refuses every pulumi-kafka module
// (and the Terraform provider it bridges), so this small provider of our own implements the
// subset of @pulumi/kafka 3.13.2 that k8s-platform uses: the provider configuration
// (bootstrapServers, TLS, SASL plain/scram, kafkaVersion, timeout) and kafka:index/topic:Topic
// (name, partitions, replicationFactor, config). It talks to the brokers with franz-go's kadm and
// reports version 3.13.2 so that the engine accepts it for @pulumi/kafka 3.13.2. ACLs, quotas,
// SCRAM credentials and the data sources are not implemented and are refused with an error.
//
// It connects lazily: Check, Diff and preview need no broker; the first Create/Read/Update/Delete
// connects and fails with "kafka: cannot reach bootstrap servers ..." if no broker answers.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is what GetPluginInfo reports: the @pulumi/kafka release this stand-in serves.
// Overridable with -ldflags "-X main.version=...".
var version = "3.13.2"

const providerName = "kafka"

func main() {
	if err := provider.Main(providerName, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newKafkaProvider(connect), nil
	}); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-kafka: %v\n", err)
		os.Exit(1)
	}
}

type kafkaProvider struct {
	pulumirpc.UnimplementedResourceProviderServer

	connect func(context.Context, *providerConfig) (admin, error)

	mu    sync.Mutex
	cfg   *providerConfig
	admin admin
}

func newKafkaProvider(connect func(context.Context, *providerConfig) (admin, error)) *kafkaProvider {
	return &kafkaProvider{connect: connect}
}

// getAdmin connects on first use; a failed connection is retried by the next call.
func (p *kafkaProvider) getAdmin(ctx context.Context) (admin, *providerConfig, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg == nil {
		return nil, nil, status.Error(codes.FailedPrecondition, "kafka: the provider is not configured (bootstrapServers unknown)")
	}
	if p.admin == nil {
		a, err := p.connect(ctx, p.cfg)
		if err != nil {
			return nil, nil, err
		}
		p.admin = a
	}
	return p.admin, p.cfg, nil
}

// opContext bounds one operation by the resource's custom timeout or the provider's timeout.
// adminWithin returns the admin client (connecting on first use) and a context bounded by the
// request's timeout, or the provider's when the request sets none.
func (p *kafkaProvider) adminWithin(ctx context.Context, reqTimeout float64) (admin, context.Context, context.CancelFunc, error) {
	a, cfg, err := p.getAdmin(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := opContext(ctx, cfg, reqTimeout)
	return a, ctx, cancel, nil
}

// storedTopic checks the resource type and decodes a stored topic: its properties and its name.
func storedTopic(urn, typ, id string, props *structpb.Struct) (resource.PropertyMap, string, error) {
	if err := checkType(urn, typ); err != nil {
		return nil, "", err
	}
	olds, err := unmarshal(props)
	if err != nil {
		return nil, "", err
	}
	name, err := storedTopicName(id, olds)
	return olds, name, err
}

// storedTopicName is the topic a stored resource stands for: its "name" property, else its ID.
func storedTopicName(id string, olds resource.PropertyMap) (string, error) {
	if present(olds, "name") {
		return asString(olds["name"])
	}
	return id, nil
}

func opContext(ctx context.Context, cfg *providerConfig, reqTimeout float64) (context.Context, context.CancelFunc) {
	d := cfg.Timeout
	if reqTimeout > 0 {
		d = time.Duration(reqTimeout * float64(time.Second))
	}
	return context.WithTimeout(ctx, d)
}

func checkType(urn, typ string) error {
	if typ == "" {
		typ = string(resource.URN(urn).Type())
	}
	if typ != topicToken {
		return status.Errorf(codes.Unimplemented,
			"kafka (offline stand-in %s): resource type %q is not implemented; only %s is", version, typ, topicToken)
	}
	return nil
}

func failuresResponse(inputs resource.PropertyMap, failures []failure) (*pulumirpc.CheckResponse, error) {
	resp := &pulumirpc.CheckResponse{}
	for _, f := range failures {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: f.property, Reason: f.reason})
	}
	var err error
	resp.Inputs, err = marshal(inputs)
	return resp, err
}

func (p *kafkaProvider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *kafkaProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *kafkaProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, providerName, version)}, nil
}

func (p *kafkaProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *kafkaProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	_, _, failures := parseConfig(news, os.Getenv)
	return failuresResponse(news, failures)
}

func (p *kafkaProvider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
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
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	for k := range keys {
		o, n := olds[k], news[k]
		if n.ContainsUnknowns() || !unsecret(o).DeepEquals(unsecret(n)) {
			resp.Diffs = append(resp.Diffs, string(k)) // connection settings: never a replacement
		}
	}
	if len(resp.Diffs) > 0 {
		sort.Strings(resp.Diffs)
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return resp, nil
}

func (p *kafkaProvider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	cfg, unknown, failures := parseConfig(mergeConfig(req.GetVariables(), args), os.Getenv)
	if len(failures) > 0 {
		var msgs []string
		for _, f := range failures {
			msgs = append(msgs, f.reason)
		}
		return nil, status.Errorf(codes.InvalidArgument, "kafka provider configuration: %s", strings.Join(msgs, "; "))
	}
	p.mu.Lock()
	if p.admin != nil {
		p.admin.close()
		p.admin = nil
	}
	p.cfg = nil
	if !unknown {
		p.cfg = cfg
	}
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (p *kafkaProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetUrn(), req.GetType()); err != nil {
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
	name := req.GetName()
	if name == "" {
		name = resource.URN(req.GetUrn()).Name()
	}
	checked, failures := checkTopic(name, olds, news, req.GetRandomSeed())
	return failuresResponse(checked, failures)
}

func (p *kafkaProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if err := checkType(req.GetUrn(), req.GetType()); err != nil {
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
	ignore := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignore[k] = true
	}
	return diffTopic(olds, news, ignore), nil
}

func (p *kafkaProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := checkType(req.GetUrn(), req.GetType()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(news)
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	t, err := topicOf(news)
	if err != nil {
		return nil, err
	}
	a, ctx, cancel, err := p.adminWithin(ctx, req.GetTimeout())
	if err != nil {
		return nil, err
	}
	defer cancel()
	if err := a.createTopic(ctx, t); err != nil {
		return nil, err
	}
	props, err := marshal(topicProps(t, present(news, "config")))
	return &pulumirpc.CreateResponse{Id: t.Name, Properties: props}, err
}

func (p *kafkaProvider) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	olds, name, err := storedTopic(req.GetUrn(), req.GetType(), req.GetId(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	a, ctx, cancel, err := p.adminWithin(ctx, req.GetTimeout())
	if err != nil {
		return nil, err
	}
	defer cancel()
	live, err := a.describeTopic(ctx, name)
	if err != nil {
		return nil, err
	}
	if live == nil {
		return &pulumirpc.ReadResponse{}, nil // gone: the engine drops it from the state
	}
	// The live topic is both the state and the inputs, so that drift shows up in the next diff.
	props, err := marshal(topicProps(*live, present(olds, "config")))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: live.Name, Properties: props, Inputs: props}, nil
}

func (p *kafkaProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if err := checkType(req.GetUrn(), req.GetType()); err != nil {
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
	if req.GetPreview() {
		props, err := marshal(news)
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	oldT, err := topicOf(olds)
	if err != nil {
		return nil, err
	}
	newT, err := topicOf(news)
	if err != nil {
		return nil, err
	}
	if oldT.Name != newT.Name || oldT.ReplicationFactor != newT.ReplicationFactor || newT.Partitions < oldT.Partitions {
		return nil, fmt.Errorf("kafka: topic %q: this change needs a replacement, not an update", oldT.Name)
	}
	a, ctx, cancel, err := p.adminWithin(ctx, req.GetTimeout())
	if err != nil {
		return nil, err
	}
	defer cancel()
	if newT.Partitions > oldT.Partitions {
		if err := a.setPartitions(ctx, newT.Name, newT.Partitions); err != nil {
			return nil, err
		}
	}
	if set, remove := configDelta(oldT.Config, newT.Config); len(set) > 0 || len(remove) > 0 {
		if err := a.alterConfig(ctx, newT.Name, set, remove); err != nil {
			return nil, err
		}
	}
	props, err := marshal(topicProps(newT, present(news, "config")))
	return &pulumirpc.UpdateResponse{Properties: props}, err
}

func (p *kafkaProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	_, name, err := storedTopic(req.GetUrn(), req.GetType(), req.GetId(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	a, ctx, cancel, err := p.adminWithin(ctx, req.GetTimeout())
	if err != nil {
		return nil, err
	}
	defer cancel()
	if err := a.deleteTopic(ctx, name); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
