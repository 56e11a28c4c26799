package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"

	"github.com/distributed-electrons/electrons"
)

// DefaultSendTimeout is how long a receiver has to answer a webhook: the spec counts a 2xx
// within 15 s as success.
const DefaultSendTimeout = 15 * time.Second

// DefaultUserAgent is the User-Agent of webhook requests when SenderConfig gives none.
const DefaultUserAgent = "distributed-electrons-webhooks/1"

// MaxURLLength is the longest callback URL CheckURL accepts.
const MaxURLLength = 2048

// snippetBytes is how much of a receiver's answer an Attempt keeps; drainBytes is how much
// more Send reads so that the connection can be reused.
const (
	snippetBytes = 2 << 10
	drainBytes   = 64 << 10
)

// resolveTimeout bounds CheckURL's DNS lookup.
const resolveTimeout = 5 * time.Second

// ErrForbiddenAddress is wrapped by connection errors and CheckURL errors when a webhook host is
// (or resolves to) a loopback, private, link-local, CGNAT, metadata or other non-public address.
var ErrForbiddenAddress = errors.New("non-public address")

// guardian holds the SSRF rules shared by the dialer and CheckURL: the IANA special-purpose
// ranges of code.dny.dev/ssrf. Any port is allowed, since receivers may listen on any port;
// the address is what protects our network.
var guardian = ssrf.New(ssrf.WithAnyPort())

func dialControl(network, address string, c syscall.RawConn) error {
	if err := guardian.Safe(network, address, c); err != nil {
		return fmt.Errorf("%w: %w", ErrForbiddenAddress, err)
	}
	return nil
}

// SenderConfig configures a Sender.
type SenderConfig struct {
	// AllowPrivate lets webhooks reach loopback, private and other non-public addresses
	// (ELECTRONS_WEBHOOK_ALLOW_PRIVATE). Default false: such connections are refused.
	AllowPrivate bool
	// Timeout bounds one attempt, from connecting to reading the answer. Default 15 s.
	Timeout time.Duration
	// UserAgent is sent with every webhook. Default DefaultUserAgent.
	UserAgent string
}

// Sender sends signed webhooks. It never follows redirects, never uses a proxy from the
// environment (a proxy would connect on our behalf past the address checks) and, unless
// AllowPrivate, refuses to connect to non-public addresses whatever DNS answers at the time.
// It is safe for concurrent use.
type Sender struct {
	client    *http.Client
	userAgent string
}

// NewSender returns a Sender configured by cfg.
func NewSender(cfg SenderConfig) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSendTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	dialer := &net.Dialer{Timeout: min(cfg.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = dialControl
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	return &Sender{
		client: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		userAgent: cfg.UserAgent,
	}
}

// Attempt is the outcome of one webhook attempt.
type Attempt struct {
	// StatusCode is the receiver's HTTP status, or 0 when no answer came.
	StatusCode int
	// Err says why the attempt failed: a transport error, a timeout, a refused address or a
	// status other than 2xx. It is nil when the attempt succeeded.
	Err error
	// Duration is how long the attempt took.
	Duration time.Duration
	// ResponseSnippet is the start of the receiver's answer (at most 2 KiB, valid UTF-8).
	ResponseSnippet string
}

// OK reports whether the receiver answered 2xx.
func (a Attempt) OK() bool { return a.Err == nil && a.StatusCode >= 200 && a.StatusCode < 300 }

// Gone reports whether the receiver answered 410 Gone, which disables a subscription.
func (a Attempt) Gone() bool { return a.StatusCode == http.StatusGone }

// Send POSTs body to url as one Standard Webhooks attempt: content-type application/json,
// webhook-id msgID (stable across retries), webhook-timestamp (now, in Unix seconds) and
// webhook-signature signed with every secret. It does not follow redirects: a 3xx is a failure.
func (s *Sender) Send(ctx context.Context, url string, msgID string, body []byte, secrets []string) Attempt {
	start := time.Now()
	a := s.send(ctx, url, msgID, body, secrets, start)
	a.Duration = time.Since(start)
	return a
}

func (s *Sender) send(ctx context.Context, url string, msgID string, body []byte, secrets []string, now time.Time) Attempt {
	sig, err := SignAll(secrets, msgID, now, body)
	if err != nil {
		return Attempt{Err: fmt.Errorf("sign webhook %s: %w", msgID, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Attempt{Err: fmt.Errorf("build webhook request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set(HeaderWebhookID, msgID)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderWebhookSignature, sig)

	resp, err := s.client.Do(req)
	if err != nil {
		return Attempt{Err: fmt.Errorf("post webhook: %w", err)}
	}
	defer resp.Body.Close()
	a := Attempt{StatusCode: resp.StatusCode}
	snippet, rerr := io.ReadAll(io.LimitReader(resp.Body, snippetBytes))
	a.ResponseSnippet = strings.ToValidUTF8(string(snippet), "\uFFFD")
	if rerr == nil {
		_, _ = io.CopyN(io.Discard, resp.Body, drainBytes)
	}
	// A 2xx whose body broke off (rerr != nil) still counts: the receiver took the webhook.
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Err = fmt.Errorf("receiver answered %s (redirects are not followed)", resp.Status)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		a.Err = fmt.Errorf("receiver answered %s", resp.Status)
	}
	return a
}

// CheckURL validates a webhook URL at registration time: it must be an absolute http or https
// URL with a host, without user info, at most 2048 characters long; unless allowPrivate, every
// address its host resolves to must be public. The error is an *electrons.Error with code
// invalid_request and param callback_url. The Sender checks addresses again at connect time,
// since DNS answers change.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	bad := func(cause error, format string, args ...any) error {
		return &electrons.Error{
			Code:    electrons.CodeInvalidRequest,
			Message: fmt.Sprintf(format, args...),
			Param:   "callback_url",
			Err:     cause,
		}
	}
	if raw == "" {
		return bad(nil, "callback_url is empty")
	}
	if len(raw) > MaxURLLength {
		return bad(nil, "callback_url is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad(err, "callback_url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad(nil, "callback_url must be an absolute http or https URL")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return bad(nil, "callback_url must have a host")
	}
	if u.User != nil {
		return bad(nil, "callback_url must not contain user info")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad(err, "callback_url has an invalid port %q", p)
		}
	}
	if allowPrivate {
		return nil
	}

	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		defer cancel()
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return bad(err, "callback_url host %q does not resolve", host)
		}
		if len(addrs) == 0 {
			return bad(nil, "callback_url host %q does not resolve", host)
		}
	}
	for _, ip := range addrs {
		if err := guardian.SafeAddr(ip.Unmap()); err != nil {
			return bad(fmt.Errorf("%w: %w", ErrForbiddenAddress, err),
				"callback_url host %q resolves to %s, which is not a public address", host, ip.Unmap())
		}
	}
	return nil
}
