package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/distributed-electrons/electrons/delivery"
)

// Config is every setting of the server. Each is read from ELECTRONS_<NAME> and may be given as
// the flag --<name> in kebab case; a flag wins over the environment.
type Config struct {
	DatabaseURL    string        // ELECTRONS_DATABASE_URL; default postgres://postgres@127.0.0.1:5432/electrons?sslmode=disable
	NATSURL        string        // ELECTRONS_NATS_URL; default empty: an embedded NATS server under the data dir
	NATSNamespace  string        // ELECTRONS_NATS_NAMESPACE; default electrons: prefix of streams and subjects
	S3Endpoint     string        // ELECTRONS_S3_ENDPOINT; default empty: a local directory under the data dir
	S3AccessKey    string        // ELECTRONS_S3_ACCESS_KEY
	S3SecretKey    string        // ELECTRONS_S3_SECRET_KEY
	S3Bucket       string        // ELECTRONS_S3_BUCKET; default electrons
	S3Region       string        // ELECTRONS_S3_REGION
	S3Secure       bool          // ELECTRONS_S3_SECURE; default false
	HTTPAddr       string        // ELECTRONS_HTTP_ADDR; default :8080 (serve), 127.0.0.1:8080 (dev)
	PublicURL      string        // ELECTRONS_PUBLIC_URL; base of local artifact URLs; default http://<http addr>
	DataDir        string        // ELECTRONS_DATA_DIR; default ./data
	BootstrapKey   string        // ELECTRONS_BOOTSTRAP_KEY
	SecretKey      string        // ELECTRONS_SECRET_KEY
	AllowPrivate   bool          // ELECTRONS_WEBHOOK_ALLOW_PRIVATE; default false (serve), true (dev)
	RetrySchedule  string        // ELECTRONS_WEBHOOK_RETRY_SCHEDULE; default 0s,5s,5m,30m,2h,5h,10h,10h
	LogFormat      string        // ELECTRONS_LOG_FORMAT; json or text; default text
	LogLevel       string        // ELECTRONS_LOG_LEVEL; debug, info, warn, error; default info
	Roles          string        // ELECTRONS_ROLES; default api,router,worker,delivery
	Workers        int           // ELECTRONS_WORKERS; worker slots per provider queue in this process; default 50
	MaxAttempts    int           // ELECTRONS_MAX_ATTEMPTS; provider calls per request on retryable errors; default 5
	CallTimeout    time.Duration // ELECTRONS_CALL_TIMEOUT; bound of one provider call; default 5m
	ArtifactURLTTL time.Duration // ELECTRONS_ARTIFACT_URL_TTL; lifetime of signed artifact URLs; default 24h
	RescueAfter    time.Duration // ELECTRONS_RESCUE_AFTER; a job running this long is presumed dead and retried; default call timeout + 1m

	// Providers: a provider without a key is disabled (OPENAI_COMPAT_BASE_URL enables openaicompat).
	OpenAIKey         string // OPENAI_API_KEY
	OpenAIBaseURL     string // OPENAI_BASE_URL; default https://api.openai.com/v1
	AnthropicKey      string // ANTHROPIC_API_KEY
	AnthropicBaseURL  string // ANTHROPIC_BASE_URL; default https://api.anthropic.com
	GeminiKey         string // GEMINI_API_KEY
	GeminiBaseURL     string // GEMINI_BASE_URL; default https://generativelanguage.googleapis.com
	IdeogramKey       string // IDEOGRAM_API_KEY
	IdeogramBaseURL   string // IDEOGRAM_BASE_URL; default https://api.ideogram.ai
	ElevenLabsKey     string // ELEVENLABS_API_KEY
	ElevenLabsBaseURL string // ELEVENLABS_BASE_URL; default https://api.elevenlabs.io
	PexelsKey         string // PEXELS_API_KEY
	PexelsBaseURL     string // PEXELS_BASE_URL; default https://api.pexels.com
	ShotstackKey      string // SHOTSTACK_API_KEY
	ShotstackBaseURL  string // SHOTSTACK_BASE_URL; default https://api.shotstack.io
	ShotstackEnv      string // SHOTSTACK_ENV; stage or v1; default stage
	CompatBaseURL     string // OPENAI_COMPAT_BASE_URL, e.g. http://localhost:11434/v1 (Ollama)
	CompatKey         string // OPENAI_COMPAT_API_KEY
	CompatModel       string // OPENAI_COMPAT_MODEL; the model of openaicompat-text; default llama3.1

	schedule delivery.Schedule
	roles    map[string]bool
}

type setting struct {
	name  string // kebab case
	env   string // the environment variable, when it is not ELECTRONS_<NAME>
	usage string
	str   *string
	b     *bool
	i     *int
	d     *time.Duration
}

func (c *Config) settings() []setting {
	return []setting{
		{name: "database-url", usage: "PostgreSQL URL", str: &c.DatabaseURL},
		{name: "nats-url", usage: "NATS URL (empty: embedded server)", str: &c.NATSURL},
		{name: "nats-namespace", usage: "prefix of NATS streams and subjects", str: &c.NATSNamespace},
		{name: "s3-endpoint", usage: "S3 endpoint host:port (empty: local directory)", str: &c.S3Endpoint},
		{name: "s3-access-key", usage: "S3 access key", str: &c.S3AccessKey},
		{name: "s3-secret-key", usage: "S3 secret key", str: &c.S3SecretKey},
		{name: "s3-bucket", usage: "S3 bucket", str: &c.S3Bucket},
		{name: "s3-region", usage: "S3 region", str: &c.S3Region},
		{name: "s3-secure", usage: "use TLS to reach S3", b: &c.S3Secure},
		{name: "http-addr", usage: "HTTP listen address", str: &c.HTTPAddr},
		{name: "public-url", usage: "base URL clients reach this server at", str: &c.PublicURL},
		{name: "data-dir", usage: "data directory", str: &c.DataDir},
		{name: "bootstrap-key", usage: "an admin API key of instance default that exists at start-up", str: &c.BootstrapKey},
		{name: "secret-key", usage: "key that encrypts stored secrets", str: &c.SecretKey},
		{name: "webhook-allow-private", usage: "allow webhooks to non-public addresses", b: &c.AllowPrivate},
		{name: "webhook-retry-schedule", usage: "waits before each webhook attempt", str: &c.RetrySchedule},
		{name: "log-format", usage: "json or text", str: &c.LogFormat},
		{name: "log-level", usage: "debug, info, warn or error", str: &c.LogLevel},
		{name: "roles", usage: "roles of this process: api,router,worker,delivery", str: &c.Roles},
		{name: "workers", usage: "worker slots per provider queue", i: &c.Workers},
		{name: "max-attempts", usage: "provider calls per request on retryable errors", i: &c.MaxAttempts},
		{name: "call-timeout", usage: "bound of one provider call", d: &c.CallTimeout},
		{name: "artifact-url-ttl", usage: "lifetime of signed artifact URLs", d: &c.ArtifactURLTTL},
		{name: "openai-api-key", env: "OPENAI_API_KEY", usage: "OpenAI API key", str: &c.OpenAIKey},
		{name: "openai-base-url", env: "OPENAI_BASE_URL", usage: "OpenAI base URL", str: &c.OpenAIBaseURL},
		{name: "anthropic-api-key", env: "ANTHROPIC_API_KEY", usage: "Anthropic API key", str: &c.AnthropicKey},
		{name: "anthropic-base-url", env: "ANTHROPIC_BASE_URL", usage: "Anthropic base URL", str: &c.AnthropicBaseURL},
		{name: "gemini-api-key", env: "GEMINI_API_KEY", usage: "Gemini API key", str: &c.GeminiKey},
		{name: "gemini-base-url", env: "GEMINI_BASE_URL", usage: "Gemini base URL", str: &c.GeminiBaseURL},
		{name: "ideogram-api-key", env: "IDEOGRAM_API_KEY", usage: "Ideogram API key", str: &c.IdeogramKey},
		{name: "ideogram-base-url", env: "IDEOGRAM_BASE_URL", usage: "Ideogram base URL", str: &c.IdeogramBaseURL},
		{name: "elevenlabs-api-key", env: "ELEVENLABS_API_KEY", usage: "ElevenLabs API key", str: &c.ElevenLabsKey},
		{name: "elevenlabs-base-url", env: "ELEVENLABS_BASE_URL", usage: "ElevenLabs base URL", str: &c.ElevenLabsBaseURL},
		{name: "pexels-api-key", env: "PEXELS_API_KEY", usage: "Pexels API key", str: &c.PexelsKey},
		{name: "pexels-base-url", env: "PEXELS_BASE_URL", usage: "Pexels base URL", str: &c.PexelsBaseURL},
		{name: "shotstack-api-key", env: "SHOTSTACK_API_KEY", usage: "Shotstack API key", str: &c.ShotstackKey},
		{name: "shotstack-base-url", env: "SHOTSTACK_BASE_URL", usage: "Shotstack base URL", str: &c.ShotstackBaseURL},
		{name: "shotstack-env", env: "SHOTSTACK_ENV", usage: "Shotstack environment: stage or v1", str: &c.ShotstackEnv},
		{name: "openai-compat-base-url", env: "OPENAI_COMPAT_BASE_URL", usage: "base URL of an OpenAI-compatible server (Ollama, vLLM, llama.cpp)", str: &c.CompatBaseURL},
		{name: "openai-compat-api-key", env: "OPENAI_COMPAT_API_KEY", usage: "API key of the OpenAI-compatible server", str: &c.CompatKey},
		{name: "openai-compat-model", env: "OPENAI_COMPAT_MODEL", usage: "model of openaicompat-text", str: &c.CompatModel},
		{name: "rescue-after", usage: "how long a job may run before it is presumed dead (default call timeout + 1m)", d: &c.RescueAfter},
	}
}

func envName(flagName string) string {
	return "ELECTRONS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// defaultConfig returns the defaults of command cmd ("serve" or "dev").
func defaultConfig(cmd string) Config {
	c := Config{
		DatabaseURL:    "postgres://postgres@127.0.0.1:5432/electrons?sslmode=disable",
		NATSNamespace:  "electrons",
		S3Bucket:       "electrons",
		HTTPAddr:       ":8080",
		DataDir:        "./data",
		RetrySchedule:  delivery.DefaultSchedule.String(),
		LogFormat:      "text",
		LogLevel:       "info",
		Roles:          "api,router,worker,delivery",
		Workers:        50,
		MaxAttempts:    5,
		CompatModel:    "llama3.1",
		CallTimeout:    5 * time.Minute,
		ArtifactURLTTL: 24 * time.Hour,
	}
	if cmd == "dev" {
		c.HTTPAddr = "127.0.0.1:8080"
		c.AllowPrivate = true
	}
	return c
}

// bind registers every setting as a flag on fs, with its default taken from the environment.
// Errors in environment values are returned, naming the variable.
func (c *Config) bind(fs *flag.FlagSet, getenv func(string) string) error {
	var errs []error
	for _, s := range c.settings() {
		env := envName(s.name)
		if s.env != "" {
			env = s.env
		}
		v := getenv(env)
		usage := fmt.Sprintf("%s (%s)", s.usage, env)
		switch {
		case s.str != nil:
			if v != "" {
				*s.str = v
			}
			fs.StringVar(s.str, s.name, *s.str, usage)
		case s.b != nil:
			if v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s=%q: want true or false", env, v))
				}
				*s.b = b
			}
			fs.BoolVar(s.b, s.name, *s.b, usage)
		case s.i != nil:
			if v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s=%q: want a whole number", env, v))
				}
				*s.i = n
			}
			fs.IntVar(s.i, s.name, *s.i, usage)
		case s.d != nil:
			if v != "" {
				d, err := time.ParseDuration(v)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 30s or 5m", env, v))
				}
				*s.d = d
			}
			fs.DurationVar(s.d, s.name, *s.d, usage)
		}
	}
	return errors.Join(errs...)
}

var knownRoles = []string{"api", "router", "worker", "delivery"}

// validate checks the settings, naming the one at fault.
func (c *Config) validate() error {
	var errs []error
	bad := func(flagName, format string, args ...any) {
		env := envName(flagName)
		for _, s := range c.settings() {
			if s.name == flagName && s.env != "" {
				env = s.env
			}
		}
		errs = append(errs, fmt.Errorf("%s (--%s): %s", env, flagName, fmt.Sprintf(format, args...)))
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("database-url", "want a postgres:// URL, got %q", c.DatabaseURL)
	}
	if c.NATSURL != "" {
		if u, err := url.Parse(c.NATSURL); err != nil || u.Host == "" {
			bad("nats-url", "want a URL such as nats://127.0.0.1:4222, got %q", c.NATSURL)
		}
	}
	if c.NATSNamespace == "" || strings.ContainsAny(c.NATSNamespace, ".*> \t") {
		bad("nats-namespace", "want a plain name without dots, spaces or wildcards, got %q", c.NATSNamespace)
	}
	if c.S3Endpoint != "" {
		if strings.Contains(c.S3Endpoint, "://") {
			bad("s3-endpoint", "want host:port without a scheme (use ELECTRONS_S3_SECURE for TLS), got %q", c.S3Endpoint)
		}
		if c.S3AccessKey == "" || c.S3SecretKey == "" {
			bad("s3-access-key", "S3 needs ELECTRONS_S3_ACCESS_KEY and ELECTRONS_S3_SECRET_KEY")
		}
		if c.S3Bucket == "" {
			bad("s3-bucket", "must not be empty")
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("http-addr", "want host:port such as :8080, got %q", c.HTTPAddr)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			bad("public-url", "want an http(s) URL, got %q", c.PublicURL)
		}
	}
	if c.DataDir == "" {
		bad("data-dir", "must not be empty")
	}
	if c.BootstrapKey != "" && len(c.BootstrapKey) < 16 {
		bad("bootstrap-key", "must be at least 16 characters")
	}
	sched, err := delivery.ParseSchedule(c.RetrySchedule)
	if err != nil || len(sched) == 0 {
		bad("webhook-retry-schedule", "want comma-separated durations such as 0s,5s,5m: %v", err)
	}
	c.schedule = sched
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("log-format", "want json or text, got %q", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	c.roles = map[string]bool{}
	for _, r := range strings.Split(c.Roles, ",") {
		r = strings.TrimSpace(r)
		ok := false
		for _, k := range knownRoles {
			ok = ok || k == r
		}
		if !ok {
			bad("roles", "unknown role %q; roles are api, router, worker, delivery", r)
			continue
		}
		c.roles[r] = true
	}
	if c.Workers < 1 || c.Workers > 10000 {
		bad("workers", "want 1 to 10000, got %d", c.Workers)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 25 {
		bad("max-attempts", "want 1 to 25, got %d", c.MaxAttempts)
	}
	if c.CallTimeout < time.Second {
		bad("call-timeout", "want at least 1s, got %s", c.CallTimeout)
	}
	for _, u := range []struct{ flag, v string }{
		{"openai-base-url", c.OpenAIBaseURL}, {"anthropic-base-url", c.AnthropicBaseURL}, {"gemini-base-url", c.GeminiBaseURL},
		{"ideogram-base-url", c.IdeogramBaseURL}, {"elevenlabs-base-url", c.ElevenLabsBaseURL}, {"pexels-base-url", c.PexelsBaseURL},
		{"shotstack-base-url", c.ShotstackBaseURL}, {"openai-compat-base-url", c.CompatBaseURL},
	} {
		if u.v == "" {
			continue
		}
		if pu, err := url.Parse(u.v); err != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
			bad(u.flag, "want an http(s) URL, got %q", u.v)
		}
	}
	if c.ShotstackEnv != "" && c.ShotstackEnv != "stage" && c.ShotstackEnv != "v1" {
		bad("shotstack-env", "want stage or v1, got %q", c.ShotstackEnv)
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = c.CallTimeout + time.Minute
	}
	if c.RescueAfter < c.CallTimeout+10*time.Second {
		bad("rescue-after", "want at least the call timeout plus 10s (%s), got %s", c.CallTimeout+10*time.Second, c.RescueAfter)
	}
	if c.ArtifactURLTTL < time.Minute || c.ArtifactURLTTL > 7*24*time.Hour {
		bad("artifact-url-ttl", "want 1m to 168h (S3 presigned URLs last at most 7 days), got %s", c.ArtifactURLTTL)
	}
	return errors.Join(errs...)
}
