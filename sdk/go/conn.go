package corvo

import (
	"context"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
)

// maxMessageBytes is the largest message sent or received (the server's default bound is
// 16 MiB; responses carrying pushed jobs can reach it).
const maxMessageBytes = 64 << 20

// bearer sends the API key on every call and stream. It never appears in logs or errors.
type bearer struct{ header string }

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": b.header}, nil
}

// RequireTransportSecurity is false: keys also work over plain http:// (a local server).
func (bearer) RequireTransportSecurity() bool { return false }

// pool holds one connection per node address and picks the node to talk to: the configured
// servers in turn, or the leader a server named.
type pool struct {
	s     *settings
	mu    sync.Mutex
	conns map[target]*grpc.ClientConn
	next  int     // index into s.targets
	hint  *target // a leader named by a server, tried before the list
}

func newPool(s *settings) *pool {
	return &pool{s: s, conns: map[target]*grpc.ClientConn{}}
}

// pick returns the node to use now and its connection.
func (p *pool) pick() (target, *grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.s.targets[p.next%len(p.s.targets)]
	if p.hint != nil {
		t = *p.hint
	}
	cc, err := p.connLocked(t)
	return t, cc, err
}

func (p *pool) connLocked(t target) (*grpc.ClientConn, error) {
	if cc, ok := p.conns[t]; ok {
		return cc, nil
	}
	creds := insecure.NewCredentials()
	if t.secure {
		creds = credentials.NewTLS(p.s.tls.Clone())
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMessageBytes),
			grpc.MaxCallSendMsgSize(maxMessageBytes),
		),
		// Reconnect promptly once a node is back; the SDK's own backoff spaces attempts.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: grpcbackoff.Config{
				BaseDelay:  100 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   5 * time.Second,
			},
			MinConnectTimeout: 5 * time.Second,
		}),
		// Notice a vanished node on an open stream.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.WithUserAgent("corvo-sdk-go"),
	}
	if p.s.apiKey != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{header: "Bearer " + p.s.apiKey}))
	}
	opts = append(opts, p.s.dialOptions...)
	cc, err := grpc.NewClient("dns:///"+t.addr, opts...)
	if err != nil {
		return nil, configError("connect to %s: %v", t, err)
	}
	p.conns[t] = cc
	return cc, nil
}

// failed records that t could not be reached: the next node is tried.
func (p *pool) failed(t target) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hint != nil {
		if *p.hint == t {
			p.hint = nil
		}
		return
	}
	if p.s.targets[p.next%len(p.s.targets)] == t {
		p.next = (p.next + 1) % len(p.s.targets)
	}
}

// follow makes the leader named by a server (host:port) the next node tried, with the
// scheme of the node that named it. It returns the new target.
func (p *pool) follow(leader string, from target) (target, bool) {
	if _, _, err := net.SplitHostPort(leader); err != nil {
		return target{}, false
	}
	t := target{secure: from.secure, addr: leader}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hint = &t
	return t, true
}

// resetBackoff asks every connection to retry its dial now (the SDK waited already).
func (p *pool) resetBackoff() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cc := range p.conns {
		cc.ResetConnectBackoff()
	}
}

func (p *pool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for t, cc := range p.conns {
		if err := cc.Close(); err != nil && first == nil {
			first = err
		}
		delete(p.conns, t)
	}
	return first
}

// streamMetadata is a finished stream's header and trailer metadata (where the server puts
// its retry and leader hints). Call it only after the stream returned an error.
func streamMetadata(s grpc.ClientStream) []metadata.MD {
	h, _ := s.Header()
	return []metadata.MD{h, s.Trailer()}
}
