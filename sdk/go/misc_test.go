package corvo

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestBackoffIsExponentialWithFullJitter(t *testing.T) {
	b := newBackoff()
	b.rand = func() float64 { return 0.999999 }
	var got []time.Duration
	for range 9 {
		got = append(got, b.next(0).Round(time.Millisecond))
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("wait %d: got %v, want %v ms", i, got[i], want[i])
		}
	}
	b.rand = func() float64 { return 0 }
	if d := b.next(0); d != 0 {
		t.Fatalf("full jitter reaches 0, got %v", d)
	}
	if d := b.next(750 * time.Millisecond); d != 750*time.Millisecond {
		t.Fatalf("the server's hint is a floor, got %v", d)
	}
	b.reset()
	b.rand = func() float64 { return 0.5 }
	if d := b.next(0); d != 50*time.Millisecond {
		t.Fatalf("after reset: %v", d)
	}
}

func TestRunHandlerOutcomes(t *testing.T) {
	job := &Job{ID: "j"}
	ctx := context.Background()
	out := runHandler(ctx, func(context.Context, *Job) (any, error) { return map[string]int{"n": 1}, nil }, job)
	if !out.ok || out.result != `{"n":1}` {
		t.Fatalf("result: %+v", out)
	}
	out = runHandler(ctx, func(context.Context, *Job) (any, error) { return nil, nil }, job)
	if !out.ok || out.result != "" {
		t.Fatalf("no result: %+v", out)
	}
	out = runHandler(ctx, func(context.Context, *Job) (any, error) { return nil, errors.New("plain") }, job)
	if out.ok || out.err != "plain" || out.backtrace != "" {
		t.Fatalf("error: %+v", out)
	}
	out = runHandler(ctx, func(context.Context, *Job) (any, error) { return nil, Fail("explicit") }, job)
	if out.err != "explicit" || !strings.Contains(out.backtrace, "TestRunHandlerOutcomes") {
		t.Fatalf("Fail records its stack: %+v", out)
	}
	out = runHandler(ctx, func(context.Context, *Job) (any, error) { panic("kaboom") }, job)
	if out.ok || out.err != "kaboom" || !strings.Contains(out.backtrace, "goroutine") {
		t.Fatalf("panic: %+v", out)
	}
	out = runHandler(ctx, func(context.Context, *Job) (any, error) { return func() {}, nil }, job)
	if out.ok || !strings.Contains(out.err, "not JSON") {
		t.Fatalf("unencodable result: %+v", out)
	}
}

func TestProgressMustBeAJSONObject(t *testing.T) {
	j := &Job{}
	if err := j.Progress(42); err == nil {
		t.Fatal("a number is refused")
	}
	if err := j.Progress(json.RawMessage(`{"pct": 5}`)); err != nil {
		t.Fatal(err)
	}
	if err := j.SetCheckpoint(struct {
		Step int `json:"step"`
	}{2}); err != nil {
		t.Fatal(err)
	}
	p, c, v := j.updates()
	if p != `{"pct": 5}` || c != `{"step":2}` || v != 2 {
		t.Fatalf("%q %q %d", p, c, v)
	}
}

func TestTruncateKeepsUTF8(t *testing.T) {
	s := strings.Repeat("é", 100)
	out := truncate(s, 51)
	if len(out) > 51 || !utf8.ValidString(out) {
		t.Fatalf("%q", out)
	}
	if truncate("short", 10) != "short" {
		t.Fatal("short strings are kept")
	}
}

func TestStatusErrorReadsHints(t *testing.T) {
	err := status.Error(codes.Unavailable, "cannot reach the leader")
	md := metadata.Pairs("grpc-retry-pushback-ms", "500", "x-corvo-leader", "127.0.0.1:8082")
	e := statusError(context.Background(), err, nil, md)
	if e.Code != codes.Unavailable || e.RetryAfter != 500*time.Millisecond || e.Leader != "127.0.0.1:8082" || !e.Temporary() {
		t.Fatalf("%+v", e)
	}
	var wrapped error = e
	var ce *Error
	if !errors.As(wrapped, &ce) || status.Code(wrapped) != codes.Unavailable {
		t.Fatal("errors.As and status.Code")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if e := statusError(ctx, status.Error(codes.Canceled, "x"), nil); !errors.Is(e, context.Canceled) {
		t.Fatalf("a cancelled call unwraps to context.Canceled: %v", e)
	}
}

func TestParseServer(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080": "http://127.0.0.1:8080",
		"https://corvo.example": "https://corvo.example:443",
		"localhost:9000":        "http://localhost:9000",
		"https://[::1]:8443/":   "https://[::1]:8443",
		"http://node-2:8082":    "http://node-2:8082",
	} {
		got, err := parseServer(in)
		if err != nil || got.String() != want {
			t.Errorf("%s: got %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x:1", "http://x:1/path", "http://"} {
		if _, err := parseServer(bad); err == nil {
			t.Errorf("%q should be refused", bad)
		}
	}
}

func TestEnqueueOptions(t *testing.T) {
	now := time.Unix(1000, 0)
	o, err := (&EnqueueOptions{
		Priority: PriorityHigh, MaxAttempts: 5, Delay: time.Minute,
		Backoff:   &Backoff{Kind: BackoffLinear, Base: time.Second, Cap: time.Minute},
		UniqueKey: "k", UniquePeriod: time.Hour, ExpireAfter: time.Second, Tags: map[string]string{"a": "b"},
	}).proto(now)
	if err != nil {
		t.Fatal(err)
	}
	if o.GetScheduledAt().AsTime().Unix() != 1060 || o.GetBackoff().GetBaseMs() != 1000 || o.GetUniquePeriodMs() != 3_600_000 ||
		o.GetMaxAttempts() != 5 || o.GetExpireAfterMs() != 1000 || o.GetPriority().String() != "PRIORITY_HIGH" {
		t.Fatalf("%v", o)
	}
	if _, err := (&EnqueueOptions{Delay: time.Second, ScheduledAt: now}).proto(now); err == nil {
		t.Fatal("Delay and ScheduledAt together are refused")
	}
	if _, err := (&EnqueueOptions{Priority: "urgent"}).proto(now); err == nil {
		t.Fatal("unknown priority")
	}
	if text, err := encodeJSON("a string"); err != nil || text != `"a string"` {
		t.Fatalf("%q %v", text, err)
	}
	if _, err := encodeJSON(json.RawMessage("{nope")); err == nil {
		t.Fatal("invalid JSON text is refused")
	}
}

func TestBatchResults(t *testing.T) {
	res, err, again := batchResults(&corvov1.StreamLifecycleResponse{RequestId: 1, EnqueueResults: []*corvov1.ItemResult{
		{JobId: "a", State: StatePending},
		{JobId: "b", State: StateScheduled},
		{JobId: "c", State: StatePending, Message: "duplicate"},
	}}, 3)
	if err != nil || again || len(res) != 3 || res[0].Status != StatusPending || res[1].Status != StatusScheduled ||
		res[2].Status != StatusDuplicate || res[2].JobID != "c" {
		t.Fatalf("%v %v %v", res, err, again)
	}
	_, err, again = batchResults(&corvov1.StreamLifecycleResponse{RequestId: 1, ErrorCode: CodeOverloaded, RetryAfterMs: 20}, 3)
	if !again || err.RetryAfter != 20*time.Millisecond {
		t.Fatalf("overloaded: %v %v", err, again)
	}
	_, err, again = batchResults(&corvov1.StreamLifecycleResponse{RequestId: 1, ErrorCode: CodeInvalidArgument, Error: "frame: invalid enqueues[1].queue"}, 3)
	if again || err.Code != codes.InvalidArgument {
		t.Fatalf("invalid: %v %v", err, again)
	}
}
