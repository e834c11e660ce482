package corvo

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
)

// DefaultServer is the node talked to when Options.Servers is empty.
const DefaultServer = "http://127.0.0.1:8080"

// DefaultCallTimeout bounds each unary call when its context has no deadline.
const DefaultCallTimeout = 30 * time.Second

// Options say how to reach Corvo; the client and the worker take the same ones.
type Options struct {
	// Servers are node URLs (http://host:port or https://host:port); default DefaultServer.
	// Any node serves every call. On a connection failure the next one is tried; a leader
	// hint from the server is followed.
	Servers []string
	// APIKey is sent as "authorization: Bearer <key>" on every call and stream. Default: the
	// CORVO_API_KEY environment variable; none when that is empty too.
	APIKey string
	// CACertFile is a PEM file of the CA certificates to trust for https:// servers instead
	// of the system roots.
	CACertFile string
	// ClientCertFile and ClientKeyFile are a PEM certificate and key for mutual TLS.
	ClientCertFile string
	ClientKeyFile  string
	// CallTimeout bounds each unary call whose context has no deadline (default 30 s).
	CallTimeout time.Duration
	// Logger receives connection changes (info/warn) and refused outcomes (warn); default
	// slog.Default(). The API key is never logged.
	Logger *slog.Logger
	// DialOptions are added to the SDK's own when connecting (interceptors, stats handlers).
	DialOptions []grpc.DialOption
}

// target is one node: its address and whether it speaks TLS.
type target struct {
	secure bool
	addr   string // host:port
}

func (t target) String() string {
	if t.secure {
		return "https://" + t.addr
	}
	return "http://" + t.addr
}

// parseServer reads "http://host:port", "https://host:port" or "host:port" (plain).
func parseServer(raw string) (target, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return target{}, fmt.Errorf("empty server URL")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return target{}, fmt.Errorf("server %q: %v", raw, err)
	}
	var t target
	switch u.Scheme {
	case "http":
	case "https":
		t.secure = true
	default:
		return target{}, fmt.Errorf("server %q: scheme must be http or https", raw)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return target{}, fmt.Errorf("server %q: expected scheme://host:port", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if t.secure {
			port = "443"
		}
	}
	t.addr = net.JoinHostPort(host, port)
	return t, nil
}

// settings are Options checked and completed.
type settings struct {
	targets     []target
	apiKey      string
	tls         *tls.Config // for https:// targets
	callTimeout time.Duration
	log         *slog.Logger
	dialOptions []grpc.DialOption
}

func (o Options) settings() (*settings, error) {
	s := &settings{
		apiKey:      o.APIKey,
		callTimeout: o.CallTimeout,
		log:         o.Logger,
		dialOptions: o.DialOptions,
	}
	servers := o.Servers
	if len(servers) == 0 {
		servers = []string{DefaultServer}
	}
	for _, raw := range servers {
		t, err := parseServer(raw)
		if err != nil {
			return nil, configError("%v", err)
		}
		s.targets = append(s.targets, t)
	}
	if s.apiKey == "" {
		s.apiKey = os.Getenv("CORVO_API_KEY")
	}
	s.apiKey = strings.TrimSpace(s.apiKey)
	if strings.ContainsAny(s.apiKey, "\r\n") {
		return nil, configError("the API key contains a line break")
	}
	if s.callTimeout <= 0 {
		s.callTimeout = DefaultCallTimeout
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	cfg, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	s.tls = cfg
	return s, nil
}

// tlsConfig builds the TLS settings for https:// servers: system roots or CACertFile, and
// the client certificate for mTLS.
func (o Options) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CACertFile != "" {
		pem, err := os.ReadFile(o.CACertFile)
		if err != nil {
			return nil, configError("CA certificate: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, configError("CA certificate %s: no PEM certificate found", o.CACertFile)
		}
		cfg.RootCAs = pool
	}
	if (o.ClientCertFile == "") != (o.ClientKeyFile == "") {
		return nil, configError("mTLS needs both ClientCertFile and ClientKeyFile")
	}
	if o.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.ClientCertFile, o.ClientKeyFile)
		if err != nil {
			return nil, configError("client certificate: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
