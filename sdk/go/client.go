package corvo

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// Client makes Corvo's calls: enqueue jobs, look them up and act on them, and run queues.
// It is safe for concurrent use. Connections are made lazily, on the first call.
type Client struct {
	s        *settings
	pool     *pool
	attempts int
}

// NewClient checks opts and returns a client; nothing is dialled until the first call.
func NewClient(opts Options) (*Client, error) {
	s, err := opts.settings()
	if err != nil {
		return nil, err
	}
	return &Client{s: s, pool: newPool(s), attempts: max(3, len(s.targets)+1)}, nil
}

// Close closes the client's connections.
func (c *Client) Close() error { return c.pool.close() }

// call runs one unary call with the SDK's retry rules: on UNAVAILABLE or RESOURCE_EXHAUSTED
// it waits at least the server's hint (with jittered backoff), follows a leader hint or
// moves to the next server when the node could not be reached, and tries again (at most
// c.attempts times, within the call's deadline). Other errors are returned at once.
//
// A retry re-sends the same request, so a write whose outcome the server could not know
// (leadership changed meanwhile, or not committed in time) is retried only when repeating
// it is safe: every enqueue carries an idempotency key (the caller's, else one made once per
// Enqueue call), for which the server answers UNAVAILABLE with a retry hint and, on the
// retry, the first attempt's job (Replayed). For a write without such a key the server
// answers UNKNOWN (CodeOutcomeUnknown), which is never retried (see retryableCode).
func (c *Client) call(ctx context.Context, fn func(ctx context.Context, cc *grpc.ClientConn, opts ...grpc.CallOption) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.s.callTimeout)
		defer cancel()
	}
	b := newBackoff()
	for attempt := 1; ; attempt++ {
		t, cc, err := c.pool.pick()
		if err != nil {
			return err
		}
		var header, trailer metadata.MD
		err = fn(ctx, cc, grpc.Header(&header), grpc.Trailer(&trailer))
		if err == nil {
			return nil
		}
		e := statusError(ctx, err, header, trailer)
		if !retryableCode(e.Code) || attempt >= c.attempts || ctx.Err() != nil {
			return e
		}
		switch {
		case e.Leader != "":
			if next, ok := c.pool.follow(e.Leader, t); ok {
				c.s.log.Info("corvo: following the leader hint", "from", t.String(), "to", next.String())
			}
		case e.Code == codes.Unavailable && e.RetryAfter == 0:
			// No answer from the node itself (it answers with a hint): try the next one.
			c.pool.failed(t)
		}
		wait := b.next(e.RetryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return e
		}
		c.s.log.Debug("corvo: call failed; retrying", "server", t.String(), "error", e.Message, "wait", wait)
		if !sleep(ctx, wait) {
			return e
		}
		c.pool.resetBackoff()
	}
}

// sleep waits d or until ctx is done; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Client) jobs(cc *grpc.ClientConn) corvov1.JobServiceClient {
	return corvov1.NewJobServiceClient(cc)
}

func (c *Client) queues(cc *grpc.ClientConn) corvov1.QueueServiceClient {
	return corvov1.NewQueueServiceClient(cc)
}

func (c *Client) workers(cc *grpc.ClientConn) corvov1.WorkerServiceClient {
	return corvov1.NewWorkerServiceClient(cc)
}

// ServerInfo is the answering node's build version.
func (c *Client) ServerInfo(ctx context.Context) (*corvov1.GetServerInfoResponse, error) {
	var out *corvov1.GetServerInfoResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.workers(cc).GetServerInfo(ctx, &corvov1.GetServerInfoRequest{}, o...)
		return err
	})
	return out, err
}
