package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const topicURN = "urn:pulumi:dev::proj::platform:messaging:KafkaTopics$kafka:index/topic:Topic::events-orders"

func noEnv(string) string { return "" }

func TestParseConfigFromSDKArgs(t *testing.T) {
	// What @pulumi/kafka's Provider sends: non-strings JSON-encoded, saslMechanism defaulted.
	args := resource.PropertyMap{
		"bootstrapServers": resource.NewStringProperty(`["kafka-0.kafka:9092","kafka-1.kafka:9092"]`),
		"tlsEnabled":       resource.NewStringProperty("false"),
		"skipTlsVerify":    resource.NewStringProperty("false"),
		"saslMechanism":    resource.NewStringProperty("plain"),
		"timeout":          resource.NewStringProperty("30"),
		"saslPassword":     resource.MakeSecret(resource.NewStringProperty("pw")),
		"saslUsername":     resource.NewStringProperty("admin"),
		"version":          resource.NewStringProperty("3.13.2"),
	}
	cfg, unknown, failures := parseConfig(args, noEnv)
	if unknown || len(failures) > 0 {
		t.Fatalf("unknown %v failures %v", unknown, failures)
	}
	if strings.Join(cfg.BootstrapServers, ",") != "kafka-0.kafka:9092,kafka-1.kafka:9092" || cfg.TLSEnabled ||
		cfg.Timeout != 30*time.Second || cfg.SASLPassword != "pw" {
		t.Fatalf("bad config %+v", cfg)
	}
}

func TestParseConfigFromStackConfigAndDefaults(t *testing.T) {
	m := mergeConfig(map[string]string{"kafka:config:bootstrapServers": "127.0.0.1:9092", "kafka:config:tlsEnabled": "false"}, nil)
	cfg, _, failures := parseConfig(m, noEnv)
	if len(failures) > 0 || cfg.BootstrapServers[0] != "127.0.0.1:9092" || cfg.TLSEnabled || cfg.Timeout != defaultTimeout {
		t.Fatalf("cfg %+v failures %v", cfg, failures)
	}
	cfg, _, _ = parseConfig(resource.PropertyMap{"bootstrapServers": resource.NewStringProperty("a:1")}, noEnv)
	if !cfg.TLSEnabled || cfg.SASLMechanism != "plain" {
		t.Fatal("tlsEnabled defaults to true and saslMechanism to plain, as upstream")
	}
	cfg, _, failures = parseConfig(resource.PropertyMap{}, func(k string) string {
		if k == "KAFKA_BOOTSTRAP_SERVERS" {
			return "b:2,c:3"
		}
		return ""
	})
	if len(failures) > 0 || len(cfg.BootstrapServers) != 2 {
		t.Fatalf("env fallback: %+v %v", cfg, failures)
	}
}

func TestParseConfigFailures(t *testing.T) {
	cases := map[string]resource.PropertyMap{
		"bootstrapServers": {},
		"saslMechanism":    {"bootstrapServers": resource.NewStringProperty("a:1"), "saslMechanism": resource.NewStringProperty("aws-iam")},
		"saslUsername":     {"bootstrapServers": resource.NewStringProperty("a:1"), "saslUsername": resource.NewStringProperty("u")},
		"timeout":          {"bootstrapServers": resource.NewStringProperty("a:1"), "timeout": resource.NewStringProperty("soon")},
		"saslAwsRegion":    {"bootstrapServers": resource.NewStringProperty("a:1"), "saslAwsRegion": resource.NewStringProperty("eu-west-1")},
		"kafkaVersion":     {"bootstrapServers": resource.NewStringProperty("a:1"), "kafkaVersion": resource.NewStringProperty("banana")},
	}
	for prop, m := range cases {
		_, _, failures := parseConfig(m, noEnv)
		if len(failures) == 0 || failures[0].property != prop {
			t.Errorf("%s: want a failure on %s, got %v", prop, prop, failures)
		}
	}
	// Unknown during preview: no failure, reported as unknown.
	_, unknown, failures := parseConfig(resource.PropertyMap{"bootstrapServers": resource.MakeComputed(resource.NewStringProperty(""))}, noEnv)
	if !unknown || len(failures) > 0 {
		t.Fatalf("unknown %v failures %v", unknown, failures)
	}
}

func TestCheckTopic(t *testing.T) {
	news := resource.PropertyMap{
		"name": resource.NewStringProperty("orders"), "partitions": resource.NewNumberProperty(6),
		"replicationFactor": resource.NewNumberProperty(3),
		"config": resource.NewObjectProperty(resource.PropertyMap{
			"retention.ms": resource.NewNumberProperty(604800000), "cleanup.policy": resource.NewStringProperty("delete")}),
	}
	out, failures := checkTopic("events-orders", nil, news, nil)
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	if got := out["config"].ObjectValue()["retention.ms"]; !got.IsString() || got.StringValue() != "604800000" {
		t.Fatalf("config values become strings: %v", got)
	}
	// Autonaming is stable for a seed and kept from the old inputs.
	delete(news, "name")
	a, _ := checkTopic("events-orders", nil, news, []byte("seed"))
	b, _ := checkTopic("events-orders", nil, news, []byte("seed"))
	if a["name"].StringValue() != b["name"].StringValue() || !strings.HasPrefix(a["name"].StringValue(), "events-orders-") {
		t.Fatalf("autoname %v %v", a["name"], b["name"])
	}
	c, _ := checkTopic("events-orders", resource.PropertyMap{"name": resource.NewStringProperty("kept")}, news, []byte("other"))
	if c["name"].StringValue() != "kept" {
		t.Fatalf("old name not kept: %v", c["name"])
	}
	for prop, bad := range map[string]resource.PropertyMap{
		"name":              {"name": resource.NewStringProperty("bad name!"), "partitions": resource.NewNumberProperty(1), "replicationFactor": resource.NewNumberProperty(1)},
		"partitions":        {"name": resource.NewStringProperty("ok"), "partitions": resource.NewNumberProperty(0), "replicationFactor": resource.NewNumberProperty(1)},
		"replicationFactor": {"name": resource.NewStringProperty("ok"), "partitions": resource.NewNumberProperty(1)},
		"bogus":             {"name": resource.NewStringProperty("ok"), "partitions": resource.NewNumberProperty(1), "replicationFactor": resource.NewNumberProperty(1), "bogus": resource.NewBoolProperty(true)},
	} {
		if _, f := checkTopic("x", nil, bad, nil); len(f) != 1 || f[0].property != prop {
			t.Errorf("%s: got %v", prop, f)
		}
	}
}

func topicMap(name string, partitions, rf int, config map[string]string) resource.PropertyMap {
	return topicProps(topicState{Name: name, Partitions: partitions, ReplicationFactor: rf, Config: config}, config != nil)
}

func TestDiffTopic(t *testing.T) {
	old := topicMap("orders", 6, 3, map[string]string{"retention.ms": "1000"})
	type want struct {
		replaces, diffs string
		dbr             bool
	}
	cases := []struct {
		name string
		news resource.PropertyMap
		want want
	}{
		{"same", topicMap("orders", 6, 3, map[string]string{"retention.ms": "1000"}), want{"", "", false}},
		{"more partitions", topicMap("orders", 12, 3, map[string]string{"retention.ms": "1000"}), want{"", "partitions", false}},
		{"fewer partitions", topicMap("orders", 3, 3, map[string]string{"retention.ms": "1000"}), want{"partitions", "partitions", true}},
		{"replication", topicMap("orders", 6, 2, map[string]string{"retention.ms": "1000"}), want{"replicationFactor", "replicationFactor", true}},
		{"rename", topicMap("orders2", 6, 3, map[string]string{"retention.ms": "1000"}), want{"name", "name", true}},
		{"config", topicMap("orders", 6, 3, map[string]string{"retention.ms": "2000"}), want{"", "config", false}},
		{"config removed", topicMap("orders", 6, 3, nil), want{"", "config", false}},
	}
	for _, c := range cases {
		d := diffTopic(old, c.news, nil)
		if got := strings.Join(d.Replaces, ","); got != c.want.replaces {
			t.Errorf("%s: replaces %q, want %q", c.name, got, c.want.replaces)
		}
		if got := strings.Join(d.Diffs, ","); got != c.want.diffs {
			t.Errorf("%s: diffs %q, want %q", c.name, got, c.want.diffs)
		}
		if d.DeleteBeforeReplace != c.want.dbr {
			t.Errorf("%s: deleteBeforeReplace %v", c.name, d.DeleteBeforeReplace)
		}
		if (c.want.diffs == "") != (d.Changes == pulumirpc.DiffResponse_DIFF_NONE) {
			t.Errorf("%s: changes %v", c.name, d.Changes)
		}
	}
	// An empty config map and no config are the same.
	if d := diffTopic(topicMap("a", 1, 1, nil), topicMap("a", 1, 1, map[string]string{}), nil); d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("empty config: %v", d.Diffs)
	}
}

// fakeAdmin is an in-memory cluster.
type fakeAdmin struct {
	topics map[string]topicState
	calls  []string
}

func (f *fakeAdmin) createTopic(_ context.Context, t topicState) error {
	if _, ok := f.topics[t.Name]; ok {
		return errors.New("exists")
	}
	f.calls = append(f.calls, "create "+t.Name)
	f.topics[t.Name] = t
	return nil
}
func (f *fakeAdmin) describeTopic(_ context.Context, name string) (*topicState, error) {
	t, ok := f.topics[name]
	if !ok {
		return nil, nil
	}
	return &t, nil
}
func (f *fakeAdmin) setPartitions(_ context.Context, name string, total int) error {
	t := f.topics[name]
	t.Partitions = total
	f.topics[name] = t
	f.calls = append(f.calls, "partitions "+name)
	return nil
}
func (f *fakeAdmin) alterConfig(_ context.Context, name string, set map[string]string, remove []string) error {
	t := f.topics[name]
	cfg := map[string]string{}
	for k, v := range t.Config {
		cfg[k] = v
	}
	for k, v := range set {
		cfg[k] = v
	}
	for _, k := range remove {
		delete(cfg, k)
	}
	t.Config = cfg
	f.topics[name] = t
	f.calls = append(f.calls, "config "+name+" set="+strings.Join(sortedKeys(set), ",")+" remove="+strings.Join(remove, ","))
	return nil
}
func (f *fakeAdmin) deleteTopic(_ context.Context, name string) error {
	delete(f.topics, name)
	f.calls = append(f.calls, "delete "+name)
	return nil
}
func (f *fakeAdmin) close() {}

func configured(t *testing.T, connect func(context.Context, *providerConfig) (admin, error)) *kafkaProvider {
	p := newKafkaProvider(connect)
	args, _ := marshal(resource.PropertyMap{"bootstrapServers": resource.NewStringProperty(`["127.0.0.1:9092"]`), "tlsEnabled": resource.NewStringProperty("false")})
	if _, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: args}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLifecycleAgainstFakeCluster(t *testing.T) {
	fake := &fakeAdmin{topics: map[string]topicState{}}
	connects := 0
	p := configured(t, func(context.Context, *providerConfig) (admin, error) { connects++; return fake, nil })
	ctx := context.Background()
	in, _ := marshal(topicMap("orders", 3, 1, map[string]string{"retention.ms": "1000", "cleanup.policy": "delete"}))

	// Preview connects to nothing.
	if _, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: topicURN, Properties: in, Preview: true}); err != nil || connects != 0 {
		t.Fatalf("preview: err %v, connects %d", err, connects)
	}
	created, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: topicURN, Properties: in})
	if err != nil || created.GetId() != "orders" || fake.topics["orders"].Partitions != 3 || fake.topics["orders"].Config["retention.ms"] != "1000" {
		t.Fatalf("create: %v %v %+v", err, created, fake.topics)
	}
	// Update: more partitions, one config changed, one removed.
	news, _ := marshal(topicMap("orders", 5, 1, map[string]string{"retention.ms": "2000"}))
	if _, err := p.Update(ctx, &pulumirpc.UpdateRequest{Urn: topicURN, Id: "orders", Olds: created.GetProperties(), News: news}); err != nil {
		t.Fatal(err)
	}
	if got := fake.topics["orders"]; got.Partitions != 5 || got.Config["retention.ms"] != "2000" || len(got.Config) != 1 {
		t.Fatalf("after update %+v (calls %v)", got, fake.calls)
	}
	// Drift: someone changes the topic outside Pulumi; Read reports it.
	fake.topics["orders"] = topicState{Name: "orders", Partitions: 7, ReplicationFactor: 1, Config: map[string]string{"retention.ms": "9"}}
	read, err := p.Read(ctx, &pulumirpc.ReadRequest{Urn: topicURN, Id: "orders", Properties: news})
	if err != nil {
		t.Fatal(err)
	}
	live, _ := unmarshal(read.GetProperties())
	if live["partitions"].NumberValue() != 7 || live["config"].ObjectValue()["retention.ms"].StringValue() != "9" {
		t.Fatalf("read %v", live)
	}
	if d := diffTopic(live, topicMap("orders", 5, 1, map[string]string{"retention.ms": "2000"}), nil); strings.Join(d.Replaces, ",") != "partitions" {
		t.Fatalf("drifted partitions above the program's must replace: %v", d.Replaces)
	}
	if _, err := p.Delete(ctx, &pulumirpc.DeleteRequest{Urn: topicURN, Id: "orders", Properties: read.GetProperties()}); err != nil || len(fake.topics) != 0 {
		t.Fatalf("delete: %v %v", err, fake.topics)
	}
	// Gone: Read returns no ID.
	if read, err = p.Read(ctx, &pulumirpc.ReadRequest{Urn: topicURN, Id: "orders", Properties: news}); err != nil || read.GetId() != "" {
		t.Fatalf("read of a deleted topic: %v %v", err, read)
	}
	if connects != 1 {
		t.Fatalf("connected %d times, want once", connects)
	}
}

func TestUnreachableBrokerError(t *testing.T) {
	// A port with nothing listening: take a free one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cfg := &providerConfig{BootstrapServers: []string{addr}, SASLMechanism: "plain", Timeout: 5 * time.Second}
	start := time.Now()
	_, err = connect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "kafka: cannot reach bootstrap servers "+addr+": ") {
		t.Fatalf("want a clear error, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
}

func TestOtherResourcesAreRefused(t *testing.T) {
	p := newKafkaProvider(nil)
	_, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: "urn:pulumi:dev::proj::kafka:index/acl:Acl::a"})
	if err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Fatalf("want not implemented, got %v", err)
	}
}
