package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicState is a topic as this provider models it.
type topicState struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	Config            map[string]string // explicitly set (dynamic topic) configuration only
}

// admin is what the Topic resource needs from a cluster; a fake implements it in tests.
type admin interface {
	createTopic(ctx context.Context, t topicState) error
	// describeTopic returns nil, nil when the topic does not exist.
	describeTopic(ctx context.Context, name string) (*topicState, error)
	setPartitions(ctx context.Context, name string, total int) error
	alterConfig(ctx context.Context, name string, set map[string]string, remove []string) error
	deleteTopic(ctx context.Context, name string) error
	close()
}

// kadmAdmin implements admin with franz-go's kadm.
type kadmAdmin struct {
	cl      *kadm.Client
	timeout time.Duration
}

// connect builds a client and checks that a broker answers, so that an unreachable cluster
// gives one clear error instead of a request timing out later.
func connect(ctx context.Context, cfg *providerConfig) (admin, error) {
	opts, err := cfg.clientOptions()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: client for %s: %w", strings.Join(cfg.BootstrapServers, ","), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := cl.Ping(pingCtx); err != nil {
		cl.Close()
		hint := ""
		if cfg.TLSEnabled {
			hint = " (tlsEnabled is true, the upstream default: set tlsEnabled false / kafka:tlsEnabled false for a PLAINTEXT listener)"
		}
		return nil, fmt.Errorf("kafka: cannot reach bootstrap servers %s: %w%s", strings.Join(cfg.BootstrapServers, ","), err, hint)
	}
	return &kadmAdmin{cl: kadm.NewClient(cl), timeout: cfg.Timeout}, nil
}

func (a *kadmAdmin) close() { a.cl.Close() }

func (a *kadmAdmin) createTopic(ctx context.Context, t topicState) error {
	configs := map[string]*string{}
	for k, v := range t.Config {
		configs[k] = kadm.StringPtr(v)
	}
	if _, err := a.cl.CreateTopic(ctx, int32(t.Partitions), int16(t.ReplicationFactor), configs, t.Name); err != nil {
		return fmt.Errorf("kafka: creating topic %q: %w", t.Name, err)
	}
	// Creation is asynchronous on the brokers: wait until every partition has a leader.
	return a.waitFor(ctx, t.Name, func(d *kadm.TopicDetail) bool {
		if d == nil || len(d.Partitions) < t.Partitions {
			return false
		}
		for _, p := range d.Partitions {
			if p.Err != nil || p.Leader < 0 {
				return false
			}
		}
		return true
	})
}

// waitFor polls the topic's metadata until ok (d is nil for a missing topic) or ctx ends.
func (a *kadmAdmin) waitFor(ctx context.Context, name string, ok func(*kadm.TopicDetail) bool) error {
	for {
		details, err := a.cl.ListTopics(ctx, name)
		if err == nil {
			d, found := details[name]
			var dp *kadm.TopicDetail
			if found && d.Err == nil {
				dp = &d
			}
			if ok(dp) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafka: waiting for topic %q: %w", name, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func isUnknownTopic(err error) bool {
	return errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID)
}

func (a *kadmAdmin) describeTopic(ctx context.Context, name string) (*topicState, error) {
	details, err := a.cl.ListTopics(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("kafka: describing topic %q: %w", name, err)
	}
	d, found := details[name]
	if !found || isUnknownTopic(d.Err) {
		return nil, nil
	}
	if d.Err != nil {
		return nil, fmt.Errorf("kafka: describing topic %q: %w", name, d.Err)
	}
	t := &topicState{Name: name, Partitions: len(d.Partitions), ReplicationFactor: d.Partitions.NumReplicas(), Config: map[string]string{}}
	rcs, err := a.cl.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("kafka: describing the configuration of topic %q: %w", name, err)
	}
	rc, err := rcs.On(name, nil)
	if err != nil {
		return nil, fmt.Errorf("kafka: describing the configuration of topic %q: %w", name, err)
	}
	if rc.Err != nil {
		if isUnknownTopic(rc.Err) {
			return nil, nil
		}
		return nil, fmt.Errorf("kafka: describing the configuration of topic %q: %w", name, rc.Err)
	}
	for _, c := range rc.Configs {
		// Only what was set on the topic itself; broker defaults are not the topic's config.
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig && c.Value != nil {
			t.Config[c.Key] = *c.Value
		}
	}
	return t, nil
}

func (a *kadmAdmin) setPartitions(ctx context.Context, name string, total int) error {
	resps, err := a.cl.UpdatePartitions(ctx, total, name)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		return fmt.Errorf("kafka: setting topic %q to %d partitions: %w", name, total, err)
	}
	return a.waitFor(ctx, name, func(d *kadm.TopicDetail) bool { return d != nil && len(d.Partitions) >= total })
}

func (a *kadmAdmin) alterConfig(ctx context.Context, name string, set map[string]string, remove []string) error {
	var ops []kadm.AlterConfig
	for _, k := range sortedKeys(set) {
		ops = append(ops, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(set[k])})
	}
	for _, k := range remove {
		ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	if len(ops) == 0 {
		return nil
	}
	resps, err := a.cl.AlterTopicConfigs(ctx, ops, name)
	if err == nil {
		_, err = resps.On(name, func(r *kadm.AlterConfigsResponse) error {
			if r.Err != nil && r.ErrMessage != "" {
				return fmt.Errorf("%w: %s", r.Err, r.ErrMessage)
			}
			return r.Err
		})
	}
	if err != nil {
		return fmt.Errorf("kafka: altering the configuration of topic %q: %w", name, err)
	}
	return nil
}

func (a *kadmAdmin) deleteTopic(ctx context.Context, name string) error {
	_, err := a.cl.DeleteTopic(ctx, name)
	if err != nil && !isUnknownTopic(err) {
		return fmt.Errorf("kafka: deleting topic %q: %w", name, err)
	}
	// Deletion is asynchronous: wait until the name is free (a replacement may recreate it).
	return a.waitFor(ctx, name, func(d *kadm.TopicDetail) bool { return d == nil })
}
