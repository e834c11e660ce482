package corvo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// Priority of a job; the zero value means normal.
type Priority string

const (
	PriorityCritical Priority = "critical"
	PriorityHigh     Priority = "high"
	PriorityNormal   Priority = "normal"
	PriorityLow      Priority = "low"
)

func (p Priority) proto() (corvov1.Priority, error) {
	switch p {
	case "":
		return corvov1.Priority_PRIORITY_UNSPECIFIED, nil
	case PriorityCritical:
		return corvov1.Priority_PRIORITY_CRITICAL, nil
	case PriorityHigh:
		return corvov1.Priority_PRIORITY_HIGH, nil
	case PriorityNormal:
		return corvov1.Priority_PRIORITY_NORMAL, nil
	case PriorityLow:
		return corvov1.Priority_PRIORITY_LOW, nil
	}
	return 0, fmt.Errorf("unknown priority %q (critical, high, normal or low)", string(p))
}

func priorityOf(p corvov1.Priority) Priority {
	switch p {
	case corvov1.Priority_PRIORITY_CRITICAL:
		return PriorityCritical
	case corvov1.Priority_PRIORITY_HIGH:
		return PriorityHigh
	case corvov1.Priority_PRIORITY_LOW:
		return PriorityLow
	}
	return PriorityNormal
}

// BackoffKind says how the wait before a job's next attempt grows.
type BackoffKind string

const (
	// BackoffNone retries at once.
	BackoffNone BackoffKind = "none"
	// BackoffFixed always waits Base.
	BackoffFixed BackoffKind = "fixed"
	// BackoffLinear waits Base times the attempt number, up to Cap.
	BackoffLinear BackoffKind = "linear"
	// BackoffExponential doubles Base per attempt up to Cap; the server adds up to 25% jitter.
	BackoffExponential BackoffKind = "exponential"
)

// Backoff is a job's retry policy. Zero Base and Cap mean the server's defaults (5 s, 10 min).
type Backoff struct {
	Kind BackoffKind
	Base time.Duration
	Cap  time.Duration
}

func (b *Backoff) proto() (*corvov1.BackoffPolicy, error) {
	if b == nil {
		return nil, nil
	}
	out := &corvov1.BackoffPolicy{BaseMs: b.Base.Milliseconds(), CapMs: b.Cap.Milliseconds()}
	switch b.Kind {
	case "":
	case BackoffNone:
		out.Kind = corvov1.BackoffKind_BACKOFF_KIND_NONE
	case BackoffFixed:
		out.Kind = corvov1.BackoffKind_BACKOFF_KIND_FIXED
	case BackoffLinear:
		out.Kind = corvov1.BackoffKind_BACKOFF_KIND_LINEAR
	case BackoffExponential:
		out.Kind = corvov1.BackoffKind_BACKOFF_KIND_EXPONENTIAL
	default:
		return nil, fmt.Errorf("unknown backoff kind %q (none, fixed, linear or exponential)", string(b.Kind))
	}
	return out, nil
}

// EnqueueOptions are a new job's options; every field is optional.
type EnqueueOptions struct {
	Priority Priority
	// MaxAttempts counts every attempt, the first included (server default 3).
	MaxAttempts int
	Backoff     *Backoff
	// Delay or ScheduledAt (not both): do not deliver before then.
	Delay       time.Duration
	ScheduledAt time.Time
	// ExpireAfter: the job becomes dead ("expired") if it has not started this long after
	// the enqueue.
	ExpireAfter time.Duration
	// UniqueKey makes the job unique: while a job of the queue holds it (for UniquePeriod,
	// server default 1 h), an enqueue with the same key answers StatusDuplicate with that
	// job's id.
	UniqueKey    string
	UniquePeriod time.Duration
	// IdempotencyKey is the enqueue's identity (at most 255 bytes): another enqueue to the
	// same queue with the same key within the server's window (24 h) creates nothing and
	// answers the first one's job id, with StatusDuplicate and Replayed set; a different
	// payload under the same key is refused (INVALID_ARGUMENT). When empty, the client sends
	// a fresh random key (32 hex characters) per Enqueue call and per EnqueueBatch item, the
	// same on each of its own retries of that call, so an SDK retry never creates a job twice.
	// Set it to make your own retries (a new call after an error) safe as well.
	IdempotencyKey string
	// Tags are free-form labels, returned to the worker and searchable.
	Tags map[string]string
}

func (o *EnqueueOptions) proto(now time.Time) (*corvov1.EnqueueOptions, error) {
	if o == nil {
		return nil, nil
	}
	prio, err := o.Priority.proto()
	if err != nil {
		return nil, err
	}
	bo, err := o.Backoff.proto()
	if err != nil {
		return nil, err
	}
	if o.MaxAttempts < 0 || o.MaxAttempts > 1000 {
		return nil, fmt.Errorf("MaxAttempts must be 1..1000, got %d", o.MaxAttempts)
	}
	if len(o.IdempotencyKey) > idempotencyKeyBytesMax {
		return nil, fmt.Errorf("IdempotencyKey must be at most %d bytes, got %d", idempotencyKeyBytesMax, len(o.IdempotencyKey))
	}
	out := &corvov1.EnqueueOptions{
		Priority:       prio,
		MaxAttempts:    int32(o.MaxAttempts),
		Backoff:        bo,
		ExpireAfterMs:  o.ExpireAfter.Milliseconds(),
		UniqueKey:      o.UniqueKey,
		UniquePeriodMs: o.UniquePeriod.Milliseconds(),
		Tags:           o.Tags,
		IdempotencyKey: o.IdempotencyKey,
	}
	switch {
	case o.Delay != 0 && !o.ScheduledAt.IsZero():
		return nil, fmt.Errorf("set Delay or ScheduledAt, not both")
	case o.Delay < 0:
		return nil, fmt.Errorf("Delay must not be negative")
	case o.Delay > 0:
		out.ScheduledAt = timestamppb.New(now.Add(o.Delay))
	case !o.ScheduledAt.IsZero():
		out.ScheduledAt = timestamppb.New(o.ScheduledAt)
	}
	return out, nil
}

// encodeJSON turns a payload or result into JSON text: json.RawMessage and []byte are taken
// as JSON text (checked), anything else is marshalled (a Go string becomes a JSON string).
func encodeJSON(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case json.RawMessage:
		if !json.Valid(x) {
			return "", fmt.Errorf("not valid JSON")
		}
		return string(x), nil
	case []byte:
		if !json.Valid(x) {
			return "", fmt.Errorf("not valid JSON")
		}
		return string(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Enqueue statuses.
const (
	StatusPending   = "pending"
	StatusScheduled = "scheduled"
	// StatusDuplicate: the unique key is held, or the idempotency key matched an earlier
	// enqueue (Replayed); JobID is the existing job's id.
	StatusDuplicate = "duplicate"
)

// EnqueueResult is a new (or, for StatusDuplicate, existing) job's id and status.
type EnqueueResult struct {
	JobID  string
	Status string
	// Replayed is true when the idempotency key matched an earlier enqueue (an earlier
	// attempt of this call, or a call with the same IdempotencyKey): nothing was created,
	// JobID is that enqueue's job (which may since have finished or be gone) and Status is
	// StatusDuplicate.
	Replayed bool
}

// idempotencyKeyBytesMax is the server's bound on an idempotency key.
const idempotencyKeyBytesMax = 255

// newIdempotencyKey is a fresh random idempotency key: 16 bytes from crypto/rand as 32 hex
// characters.
func newIdempotencyKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Enqueue adds a job to queue. payload is any JSON-serializable value, or JSON text as
// json.RawMessage; opts may be nil. The current trace context (OpenTelemetry) is sent as the
// traceparent header, which the server stores with the job. The enqueue always carries an
// idempotency key (opts.IdempotencyKey, else a random one made once for this call), so the
// client's retries of it (see Client) cannot create the job twice.
func (c *Client) Enqueue(ctx context.Context, queue string, payload any, opts *EnqueueOptions) (EnqueueResult, error) {
	req, err := enqueueItem(queue, payload, opts, time.Now())
	if err != nil {
		return EnqueueResult{}, err
	}
	ctx = withTraceparent(ctx)
	var resp *corvov1.EnqueueResponse
	err = c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		resp, err = c.workers(cc).Enqueue(ctx, &corvov1.EnqueueRequest{
			Queue: req.Queue, PayloadJson: req.PayloadJson, Options: req.Options,
		}, o...)
		return err
	})
	if err != nil {
		return EnqueueResult{}, err
	}
	return EnqueueResult{JobID: resp.GetJobId(), Status: resp.GetStatus(), Replayed: resp.GetReplayed()}, nil
}

// enqueueItem checks one enqueue and builds its message, with the given idempotency key or a
// fresh one: built once per call (or batch item), so every attempt sends the same key.
func enqueueItem(queue string, payload any, opts *EnqueueOptions, now time.Time) (*corvov1.LifecycleEnqueueItem, error) {
	if queue == "" {
		return nil, configError("enqueue: empty queue name")
	}
	text, err := encodeJSON(payload)
	if err != nil {
		return nil, configError("enqueue to %s: payload: %v", queue, err)
	}
	o, err := opts.proto(now)
	if err != nil {
		return nil, configError("enqueue to %s: %v", queue, err)
	}
	if o == nil {
		o = &corvov1.EnqueueOptions{}
	}
	if o.IdempotencyKey == "" {
		if o.IdempotencyKey, err = newIdempotencyKey(); err != nil {
			return nil, &Error{Code: codes.Internal, Message: fmt.Sprintf("enqueue to %s: idempotency key: %v", queue, err)}
		}
	}
	return &corvov1.LifecycleEnqueueItem{Queue: queue, PayloadJson: text, Options: o}, nil
}

// BatchItem is one job of EnqueueBatch.
type BatchItem struct {
	Queue   string
	Payload any
	Options *EnqueueOptions
}

// Batch frame bounds: the server takes at most 1024 items per frame, and messages of 16 MiB.
const (
	batchItemsMax = 1000
	batchBytesMax = 8 << 20
)

// EnqueueBatch enqueues items over one worker stream, at most 1000 per frame, and returns
// their results in order. A frame the server refuses as overloaded is sent again after its
// hint. Each item carries an idempotency key (its Options.IdempotencyKey, else a random one
// made once per item), so a frame sent again after a broken stream creates nothing twice:
// its items already applied answer Replayed. On an error the results of the items accepted
// before it are returned with it (an item the server refused has an empty JobID).
func (c *Client) EnqueueBatch(ctx context.Context, items []BatchItem) ([]EnqueueResult, error) {
	now := time.Now()
	all := make([]*corvov1.LifecycleEnqueueItem, len(items))
	for i, it := range items {
		x, err := enqueueItem(it.Queue, it.Payload, it.Options, now)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		all[i] = x
	}
	results := make([]EnqueueResult, 0, len(items))
	if len(all) == 0 {
		return results, nil
	}
	ctx, cancel := context.WithCancel(withTraceparent(ctx))
	defer cancel()
	b := batcher{c: c, ctx: ctx, backoff: newBackoff()}
	defer b.close()
	for start := 0; start < len(all); {
		end := batchEnd(all, start)
		res, err := b.send(all[start:end])
		results = append(results, res...)
		if err != nil {
			return results, err
		}
		start = end
	}
	return results, nil
}

// batchEnd is the end of the frame starting at start: at most batchItemsMax items and
// about batchBytesMax bytes (always at least one item).
func batchEnd(all []*corvov1.LifecycleEnqueueItem, start int) int {
	bytes := 0
	end := start
	for end < len(all) && end-start < batchItemsMax {
		n := len(all[end].PayloadJson) + len(all[end].Queue) + 64
		if end > start && bytes+n > batchBytesMax {
			break
		}
		bytes += n
		end++
	}
	return end
}

// batcher sends EnqueueBatch frames one at a time over a stream it (re)opens as needed.
type batcher struct {
	c       *Client
	ctx     context.Context
	backoff *backoff
	stream  grpc.BidiStreamingClient[corvov1.StreamLifecycleRequest, corvov1.StreamLifecycleResponse]
	cancel  context.CancelFunc
	target  target
	nextID  uint64
}

func (b *batcher) close() {
	if b.stream != nil {
		_ = b.stream.CloseSend()
		b.cancel()
		b.stream = nil
	}
}

// send delivers one frame, retrying (bounded) while the server is unreachable, overloaded
// or names another leader.
func (b *batcher) send(items []*corvov1.LifecycleEnqueueItem) ([]EnqueueResult, *Error) {
	const attemptsMax = 10
	var last *Error
	for attempt := 1; attempt <= attemptsMax; attempt++ {
		resp, err := b.roundTrip(items)
		if err != nil {
			if !err.Temporary() {
				return nil, err
			}
			last = err
		} else {
			res, ferr, again := batchResults(resp, len(items))
			if !again {
				return res, ferr
			}
			last = ferr
		}
		b.close()
		if last.Leader != "" {
			b.c.pool.follow(last.Leader, b.target)
		} else if last.ErrorCode == CodeUnspecified && last.Code == codes.Unavailable && last.RetryAfter == 0 {
			b.c.pool.failed(b.target)
		}
		if !sleep(b.ctx, b.backoff.next(last.RetryAfter)) {
			return nil, statusError(b.ctx, b.ctx.Err())
		}
		b.c.pool.resetBackoff()
	}
	return nil, last
}

// roundTrip sends one frame and waits for its response (bounded by the call timeout).
func (b *batcher) roundTrip(items []*corvov1.LifecycleEnqueueItem) (*corvov1.StreamLifecycleResponse, *Error) {
	if b.stream == nil {
		t, cc, err := b.c.pool.pick()
		if err != nil {
			return nil, statusError(b.ctx, err)
		}
		sctx, cancel := context.WithCancel(b.ctx)
		s, err := corvov1.NewWorkerServiceClient(cc).StreamLifecycle(sctx)
		if err != nil {
			cancel()
			return nil, statusError(b.ctx, err)
		}
		b.stream, b.cancel, b.target = s, cancel, t
	}
	b.nextID++
	id := b.nextID
	if err := b.stream.Send(&corvov1.StreamLifecycleRequest{RequestId: id, Enqueues: items}); err != nil && !errors.Is(err, io.EOF) {
		return nil, statusError(b.ctx, err)
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(b.c.s.callTimeout, func() { timedOut.Store(true); b.cancel() })
	defer timer.Stop()
	for {
		resp, err := b.stream.Recv()
		if err != nil {
			switch {
			case timedOut.Load():
				return nil, &Error{Code: codes.DeadlineExceeded, Message: fmt.Sprintf("no answer to the batch frame within %v", b.c.s.callTimeout)}
			case errors.Is(err, io.EOF):
				return nil, &Error{Code: codes.Unavailable, Message: "the server closed the stream"}
			}
			return nil, statusError(b.ctx, err, streamMetadata(b.stream)...)
		}
		if resp.GetRequestId() == id {
			return resp, nil
		}
	}
}

// batchResults reads a batch frame's response: the results, the error to return, and
// whether the whole frame should be sent again (refused before anything was applied).
func batchResults(resp *corvov1.StreamLifecycleResponse, n int) ([]EnqueueResult, *Error, bool) {
	results := resp.GetEnqueueResults()
	if resp.GetErrorCode() != CodeUnspecified && len(results) == 0 {
		e := frameError(resp.GetErrorCode(), resp.GetError(), resp.GetRetryAfterMs(), resp.GetLeaderAddr())
		switch e.ErrorCode {
		case CodeOverloaded, CodeNotLeader:
			return nil, e, true
		}
		return nil, e, false
	}
	out := make([]EnqueueResult, 0, n)
	var first *Error
	for i, r := range results {
		if r.GetCode() != CodeUnspecified {
			if first == nil {
				first = frameError(r.GetCode(), fmt.Sprintf("enqueue item %d: %s", i, r.GetMessage()), 0, "")
			}
			out = append(out, EnqueueResult{})
			continue
		}
		status := StatusPending
		replayed := r.GetMessage() == "replayed"
		switch {
		case replayed || r.GetMessage() == "duplicate":
			status = StatusDuplicate
		case r.GetState() == corvov1.JobState_JOB_STATE_SCHEDULED:
			status = StatusScheduled
		}
		out = append(out, EnqueueResult{JobID: r.GetJobId(), Status: status, Replayed: replayed})
	}
	if first == nil && len(out) != n {
		first = &Error{Code: codes.Internal, Message: fmt.Sprintf("the server answered %d results for %d items", len(out), n)}
	}
	return out, first, false
}
