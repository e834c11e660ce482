package corvo

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// enqueueFake is an in-process WorkerService that takes enqueues (unary, and on
// StreamLifecycle frames) as the server does with idempotency keys: a key it has seen
// answers its first job, replayed. Knobs make it lose answers after applying the write.
type enqueueFake struct {
	corvov1.UnimplementedWorkerServiceServer

	mu          sync.Mutex
	jobs        map[string]string // idempotency key -> job id
	calls       []*corvov1.EnqueueRequest
	frames      []*corvov1.StreamLifecycleRequest
	unavailable int  // answer this many unary calls UNAVAILABLE + hint, after applying them
	unknown     bool // answer every unary call UNKNOWN (outcome unknown), without a hint
	breaks      int  // end this many streams UNAVAILABLE + hint after applying their frame
}

func newEnqueueFake() *enqueueFake { return &enqueueFake{jobs: map[string]string{}} }

// apply enqueues under key (f.mu held): the job's id and whether the key was known.
func (f *enqueueFake) apply(key string) (string, bool) {
	if id, ok := f.jobs[key]; ok && key != "" {
		return id, true
	}
	id := fmt.Sprintf("job-%d", len(f.jobs))
	f.jobs[key] = id
	return id, false
}

// received: the unary calls and the stream frames so far.
func (f *enqueueFake) received() ([]*corvov1.EnqueueRequest, []*corvov1.StreamLifecycleRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*corvov1.EnqueueRequest(nil), f.calls...), append([]*corvov1.StreamLifecycleRequest(nil), f.frames...)
}

func (f *enqueueFake) Enqueue(ctx context.Context, req *corvov1.EnqueueRequest) (*corvov1.EnqueueResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, req)
	if f.unknown {
		return nil, status.Error(codes.Unknown, "the outcome of the write is unknown: leadership changed")
	}
	id, replayed := f.apply(req.GetOptions().GetIdempotencyKey())
	if f.unavailable > 0 {
		f.unavailable--
		_ = grpc.SetTrailer(ctx, metadata.Pairs("grpc-retry-pushback-ms", "10"))
		return nil, status.Error(codes.Unavailable, "the outcome of the write is unknown: leadership changed")
	}
	resp := &corvov1.EnqueueResponse{JobId: id, Status: StatusPending, State: StatePending}
	if replayed {
		resp.Status, resp.Replayed = StatusDuplicate, true
	}
	return resp, nil
}

func (f *enqueueFake) StreamLifecycle(s grpc.BidiStreamingServer[corvov1.StreamLifecycleRequest, corvov1.StreamLifecycleResponse]) error {
	for {
		req, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		resp := &corvov1.StreamLifecycleResponse{RequestId: req.RequestId}
		f.mu.Lock()
		f.frames = append(f.frames, req)
		for _, it := range req.Enqueues {
			id, replayed := f.apply(it.GetOptions().GetIdempotencyKey())
			r := &corvov1.ItemResult{JobId: id, State: StatePending}
			if replayed {
				r.Message = "replayed"
			}
			resp.EnqueueResults = append(resp.EnqueueResults, r)
		}
		broken := f.breaks > 0
		if broken {
			f.breaks--
		}
		f.mu.Unlock()
		if broken {
			s.SetTrailer(metadata.Pairs("grpc-retry-pushback-ms", "10"))
			return status.Error(codes.Unavailable, "the outcome of the write is unknown: leadership changed")
		}
		if err := s.Send(resp); err != nil {
			return err
		}
	}
}

func testClient(t *testing.T, url string) *Client {
	t.Helper()
	c, err := NewClient(Options{Servers: []string{url}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// isRandomKey: 32 lowercase hex characters (16 random bytes).
func isRandomKey(k string) bool {
	b, err := hex.DecodeString(k)
	return err == nil && len(b) == 16 && k == strings.ToLower(k)
}

func TestEnqueueCarriesAnIdempotencyKey(t *testing.T) {
	now := time.Unix(1000, 0)
	given, err := enqueueItem("q", nil, &EnqueueOptions{IdempotencyKey: "order-7", UniqueKey: "u"}, now)
	if err != nil || given.GetOptions().GetIdempotencyKey() != "order-7" || given.GetOptions().GetUniqueKey() != "u" {
		t.Fatalf("the given key is sent: %v %v", given, err)
	}
	opts := &EnqueueOptions{Priority: PriorityHigh}
	a, err := enqueueItem("q", nil, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := enqueueItem("q", nil, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	ka, kb := a.GetOptions().GetIdempotencyKey(), b.GetOptions().GetIdempotencyKey()
	if !isRandomKey(ka) || !isRandomKey(kb) || ka == kb {
		t.Fatalf("a fresh random key per call: %q %q", ka, kb)
	}
	if a.GetOptions().GetPriority() != corvov1.Priority_PRIORITY_HIGH || opts.IdempotencyKey != "" {
		t.Fatalf("the options are kept, the caller's left alone: %v %+v", a.GetOptions(), opts)
	}
	if _, err := enqueueItem("q", nil, &EnqueueOptions{IdempotencyKey: strings.Repeat("k", 256)}, now); err == nil {
		t.Fatal("a key over 255 bytes is refused")
	}
}

func TestEnqueueRetryReusesItsIdempotencyKey(t *testing.T) {
	f := newEnqueueFake()
	f.unavailable = 1
	c := testClient(t, startFake(t, f))
	res, err := c.Enqueue(context.Background(), "q", map[string]int{"n": 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls, _ := f.received()
	if len(calls) != 2 {
		t.Fatalf("one retry, got %d calls", len(calls))
	}
	first := calls[0].GetOptions().GetIdempotencyKey()
	if !isRandomKey(first) || calls[1].GetOptions().GetIdempotencyKey() != first {
		t.Fatalf("the retry sends the same key: %q then %q", first, calls[1].GetOptions().GetIdempotencyKey())
	}
	if res.JobID != "job-0" || !res.Replayed || res.Status != StatusDuplicate {
		t.Fatalf("the retry answers the first attempt's job, replayed: %+v", res)
	}

	res, err = c.Enqueue(context.Background(), "q", map[string]int{"n": 1}, nil)
	if err != nil || res.JobID != "job-1" || res.Replayed || res.Status != StatusPending {
		t.Fatalf("a new call is a new job: %+v %v", res, err)
	}
	calls, _ = f.received()
	if k := calls[2].GetOptions().GetIdempotencyKey(); !isRandomKey(k) || k == first {
		t.Fatalf("a new call has a new key: %q", k)
	}

	opts := &EnqueueOptions{IdempotencyKey: "order-7"}
	a, err := c.Enqueue(context.Background(), "q", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Enqueue(context.Background(), "q", nil, opts)
	calls, _ = f.received()
	if err != nil || calls[3].GetOptions().GetIdempotencyKey() != "order-7" || a.Replayed || !b.Replayed || b.JobID != a.JobID {
		t.Fatalf("the caller's key: %+v %+v %v", a, b, err)
	}
}

func TestOutcomeUnknownIsNotRetried(t *testing.T) {
	f := newEnqueueFake()
	f.unknown = true
	c := testClient(t, startFake(t, f))
	_, err := c.Enqueue(context.Background(), "q", nil, nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != codes.Unknown || e.Temporary() {
		t.Fatalf("%v", err)
	}
	if calls, _ := f.received(); len(calls) != 1 {
		t.Fatalf("UNKNOWN is not retried: %d calls", len(calls))
	}
	if retryableCode(codes.Unknown) || !retryableCode(codes.Unavailable) || !retryableCode(codes.ResourceExhausted) {
		t.Fatal("retryableCode")
	}
	fe := frameError(CodeOutcomeUnknown, "outcome unknown", 0, "")
	if fe.Code != codes.Unknown || fe.Temporary() || !strings.Contains(fe.Error(), "ERROR_CODE_OUTCOME_UNKNOWN") {
		t.Fatalf("frame error: %v", fe)
	}
	_, ferr, again := batchResults(&corvov1.StreamLifecycleResponse{RequestId: 1, ErrorCode: CodeOutcomeUnknown, Error: "outcome unknown"}, 2)
	if again || ferr.Code != codes.Unknown {
		t.Fatalf("a batch frame of unknown outcome is not sent again: %v %v", ferr, again)
	}
}

func TestBatchResultsReplayed(t *testing.T) {
	res, err, again := batchResults(&corvov1.StreamLifecycleResponse{RequestId: 1, EnqueueResults: []*corvov1.ItemResult{
		{JobId: "a", State: StatePending},
		{JobId: "b", State: StateScheduled, Message: "replayed"},
		{JobId: "c", Message: "replayed"}, // the job is gone: no state
		{JobId: "d", State: StatePending, Message: "duplicate"},
	}}, 4)
	if err != nil || again || len(res) != 4 {
		t.Fatalf("%v %v %v", res, err, again)
	}
	want := []EnqueueResult{
		{JobID: "a", Status: StatusPending},
		{JobID: "b", Status: StatusDuplicate, Replayed: true},
		{JobID: "c", Status: StatusDuplicate, Replayed: true},
		{JobID: "d", Status: StatusDuplicate},
	}
	for i := range want {
		if res[i] != want[i] {
			t.Fatalf("item %d: got %+v, want %+v", i, res[i], want[i])
		}
	}
}

func TestEnqueueBatchResendsAFrameWithTheSameKeys(t *testing.T) {
	f := newEnqueueFake()
	f.breaks = 1
	c := testClient(t, startFake(t, f))
	res, err := c.EnqueueBatch(context.Background(), []BatchItem{
		{Queue: "q", Payload: 1},
		{Queue: "q", Payload: 2, Options: &EnqueueOptions{IdempotencyKey: "order-7"}},
		{Queue: "q", Payload: 3, Options: &EnqueueOptions{Priority: PriorityLow}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, frames := f.received()
	if len(frames) != 2 {
		t.Fatalf("the frame is sent again on a new stream: %d frames", len(frames))
	}
	keys := map[string]bool{}
	for i, it := range frames[0].Enqueues {
		k := it.GetOptions().GetIdempotencyKey()
		if again := frames[1].Enqueues[i].GetOptions().GetIdempotencyKey(); again != k {
			t.Fatalf("item %d: key %q, then %q", i, k, again)
		}
		if (i == 1 && k != "order-7") || (i != 1 && !isRandomKey(k)) {
			t.Fatalf("item %d: key %q", i, k)
		}
		keys[k] = true
	}
	if len(keys) != 3 {
		t.Fatalf("one key per item: %v", keys)
	}
	for i, r := range res {
		if r.JobID != fmt.Sprintf("job-%d", i) || !r.Replayed || r.Status != StatusDuplicate {
			t.Fatalf("item %d: the first frame's job, replayed: %+v", i, r)
		}
	}
}
