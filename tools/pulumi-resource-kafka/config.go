package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// providerConfig is the subset of @pulumi/kafka's Provider arguments this stand-in implements.
type providerConfig struct {
	BootstrapServers []string
	TLSEnabled       bool // default true, as upstream
	SkipTLSVerify    bool
	CACert           string // PEM
	ClientCert       string // PEM
	ClientKey        string // PEM
	SASLMechanism    string // plain | scram-sha256 | scram-sha512
	SASLUsername     string
	SASLPassword     string
	KafkaVersion     string // optional cap on the protocol versions used
	Timeout          time.Duration
}

const defaultTimeout = 120 * time.Second

// Keys of the Provider's arguments. "File" variants are read from disk.
var supportedConfigKeys = map[string]bool{
	"bootstrapServers": true, "tlsEnabled": true, "skipTlsVerify": true,
	"caCert": true, "caCertFile": true, "clientCert": true, "clientCertFile": true,
	"clientKey": true, "clientKeyFile": true,
	"saslMechanism": true, "saslUsername": true, "saslPassword": true,
	"kafkaVersion": true, "timeout": true, "version": true,
}

// Arguments of the upstream provider that this stand-in does not implement: setting them is an error
// rather than being silently ignored.
var unsupportedConfigKeys = []string{
	"clientKeyPassphrase", "saslAwsAccessKey", "saslAwsContainerAuthorizationTokenFile",
	"saslAwsContainerCredentialsFullUri", "saslAwsExternalId", "saslAwsProfile", "saslAwsRegion",
	"saslAwsRoleArn", "saslAwsSecretKey", "saslAwsSharedConfigFiles", "saslAwsToken",
	"saslOauthScopes", "saslTokenUrl",
}

// mergeConfig combines the `kafka:config:*` variables with the provider's arguments (which win).
func mergeConfig(variables map[string]string, args resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range variables {
		key := k
		for _, prefix := range []string{"kafka:config:", "kafka:"} {
			if strings.HasPrefix(k, prefix) {
				key = strings.TrimPrefix(k, prefix)
				break
			}
		}
		out[resource.PropertyKey(key)] = resource.NewStringProperty(v)
	}
	for k, v := range args {
		if !unsecret(v).IsNull() {
			out[k] = v
		}
	}
	return out
}

// isEmptyValue is true for what JSON.stringify(undefined/null/[]) leaves behind.
func isEmptyValue(v resource.PropertyValue) bool {
	v = unsecret(v)
	if v.IsNull() {
		return true
	}
	if v.IsString() {
		s := strings.TrimSpace(v.StringValue())
		return s == "" || s == "null" || s == "[]"
	}
	if v.IsArray() {
		return len(v.ArrayValue()) == 0
	}
	return false
}

// parseConfig reads and validates the configuration. Unknown values (during preview) are
// reported by the second result; validation of those is skipped. env supplies the upstream
// environment fallbacks (KAFKA_BOOTSTRAP_SERVERS, ...).
func parseConfig(m resource.PropertyMap, env func(string) string) (*providerConfig, bool, []failure) {
	cfg := &providerConfig{TLSEnabled: true, SASLMechanism: "plain", Timeout: defaultTimeout}
	var failures []failure
	fail := func(k, format string, a ...any) { failures = append(failures, failure{k, fmt.Sprintf(format, a...)}) }
	unknown := false

	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range unsupportedConfigKeys {
		if v, ok := m[resource.PropertyKey(k)]; ok && !isEmptyValue(v) {
			fail(k, "%s is not supported by this offline stand-in of the kafka provider (%s)", k, version)
		}
	}
	for _, k := range keys {
		v := m[resource.PropertyKey(k)]
		if v.ContainsUnknowns() {
			unknown = true
			continue
		}
		if !supportedConfigKeys[k] || isEmptyValue(v) {
			continue
		}
		var err error
		switch k {
		case "bootstrapServers":
			cfg.BootstrapServers, err = asStringList(v)
		case "tlsEnabled":
			cfg.TLSEnabled, err = asBool(v)
		case "skipTlsVerify":
			cfg.SkipTLSVerify, err = asBool(v)
		case "caCert":
			cfg.CACert, err = asString(v)
		case "clientCert":
			cfg.ClientCert, err = asString(v)
		case "clientKey":
			cfg.ClientKey, err = asString(v)
		case "caCertFile", "clientCertFile", "clientKeyFile":
			var path string
			if path, err = asString(v); err == nil {
				var b []byte
				if b, err = os.ReadFile(path); err == nil {
					switch k {
					case "caCertFile":
						cfg.CACert = string(b)
					case "clientCertFile":
						cfg.ClientCert = string(b)
					default:
						cfg.ClientKey = string(b)
					}
				}
			}
		case "saslMechanism":
			cfg.SASLMechanism, err = asString(v)
			cfg.SASLMechanism = strings.ToLower(strings.TrimSpace(cfg.SASLMechanism))
		case "saslUsername":
			cfg.SASLUsername, err = asString(v)
		case "saslPassword":
			cfg.SASLPassword, err = asString(v)
		case "kafkaVersion":
			cfg.KafkaVersion, err = asString(v)
		case "timeout":
			var n int
			if n, err = asInt(v); err == nil {
				if n <= 0 {
					err = fmt.Errorf("must be a positive number of seconds, got %d", n)
				} else {
					cfg.Timeout = time.Duration(n) * time.Second
				}
			}
		}
		if err != nil {
			fail(k, "%s: %v", k, err)
		}
	}
	if _, ok := m["bootstrapServers"]; !ok || (!unknown && len(cfg.BootstrapServers) == 0) {
		if s := env("KAFKA_BOOTSTRAP_SERVERS"); s != "" {
			cfg.BootstrapServers, _ = asStringList(resource.NewStringProperty(s))
		}
	}
	if unknown {
		return cfg, true, failures
	}
	if len(cfg.BootstrapServers) == 0 {
		fail("bootstrapServers", "bootstrapServers is required (a list of host:port)")
	}
	for _, s := range cfg.BootstrapServers {
		if i := strings.LastIndex(s, ":"); i <= 0 || i == len(s)-1 {
			fail("bootstrapServers", "bootstrap server %q is not host:port", s)
		}
	}
	switch cfg.SASLMechanism {
	case "plain", "scram-sha256", "scram-sha512":
	default:
		fail("saslMechanism", "saslMechanism %q is not supported by this offline stand-in (supported: plain, scram-sha256, scram-sha512)", cfg.SASLMechanism)
	}
	if (cfg.SASLUsername == "") != (cfg.SASLPassword == "") {
		fail("saslUsername", "saslUsername and saslPassword must be set together")
	}
	if (cfg.ClientCert == "") != (cfg.ClientKey == "") {
		fail("clientCert", "clientCert and clientKey must be set together")
	}
	if cfg.KafkaVersion != "" && kversion.FromString(cfg.KafkaVersion) == nil {
		fail("kafkaVersion", "kafkaVersion %q is not a Kafka version this provider knows (e.g. 3.9.0)", cfg.KafkaVersion)
	}
	return cfg, false, failures
}

// clientOptions turns the configuration into franz-go client options. Nothing connects yet.
func (c *providerConfig) clientOptions() ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.BootstrapServers...),
		kgo.DialTimeout(minDuration(c.Timeout, 10*time.Second)),
		kgo.RetryTimeout(c.Timeout),
		// kadm answers metadata from a cache at most this old; polls after create/delete need it fresh.
		kgo.MetadataMinAge(200 * time.Millisecond),
	}
	if c.TLSEnabled {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if c.SASLUsername != "" {
		switch c.SASLMechanism {
		case "plain":
			opts = append(opts, kgo.SASL(plain.Auth{User: c.SASLUsername, Pass: c.SASLPassword}.AsMechanism()))
		case "scram-sha256":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.SASLUsername, Pass: c.SASLPassword}.AsSha256Mechanism()))
		case "scram-sha512":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.SASLUsername, Pass: c.SASLPassword}.AsSha512Mechanism()))
		}
	}
	if c.KafkaVersion != "" {
		if v := kversion.FromString(c.KafkaVersion); v != nil {
			opts = append(opts, kgo.MaxVersions(v))
		}
	}
	return opts, nil
}

func (c *providerConfig) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.SkipTLSVerify} //nolint:gosec // user's choice
	if c.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(c.CACert)) {
			return nil, errors.New("kafka: caCert holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	if c.ClientCert != "" {
		if block, _ := pem.Decode([]byte(c.ClientKey)); block != nil && strings.Contains(block.Type, "ENCRYPTED") {
			return nil, errors.New("kafka: encrypted client keys (clientKeyPassphrase) are not supported by this stand-in")
		}
		pair, err := tls.X509KeyPair([]byte(c.ClientCert), []byte(c.ClientKey))
		if err != nil {
			return nil, fmt.Errorf("kafka: clientCert/clientKey: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}
