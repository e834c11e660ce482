package corvo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// HandlerFunc works one job. Returning a value completes the job with that value as its
// result (JSON-encoded; nil for none, json.RawMessage for JSON text); returning an error
// fails the attempt with the error's message (the job is retried by its backoff, or goes
// dead after its last attempt). A panic fails the attempt with the panic's message and
// stack; it never crashes the worker.
//
// ctx is cancelled when the server says to stop the job (context.Cause is ErrJobCancelled:
// it was cancelled, reassigned after a lost lease, or finished) or when the worker's drain
// timeout runs out (ErrShuttingDown). It carries the job's span (OpenTelemetry).
type HandlerFunc func(ctx context.Context, job *Job) (any, error)

// Server limits the SDK checks before sending, so that one bad value never gets a whole
// frame refused.
const (
	jsonBytesMax = 1 << 20  // results, progress, checkpoints
	textBytesMax = 64 << 10 // error messages and backtraces
)

// Job is the job handed to a handler.
type Job struct {
	ID    string
	Queue string
	// Attempt is this attempt's number, from 1.
	Attempt     int
	MaxAttempts int
	// Payload is the job's JSON payload (Decode parses it).
	Payload json.RawMessage
	// Checkpoint is the checkpoint the previous attempt stored (JSON), or nil.
	Checkpoint json.RawMessage
	Tags       map[string]string
	Priority   Priority
	// TraceParent is the producer's W3C traceparent (empty when not traced).
	TraceParent string
	// LeaseDeadline is when the first lease ends unless extended (the worker heartbeats).
	LeaseDeadline time.Time

	leaseToken uint64
	mu         sync.Mutex
	progress   string // JSON object set by the handler, "" = none
	checkpoint string
	version    uint64 // bumped on every Progress / SetCheckpoint
	notify     func() // tells the worker something is to be sent
}

func newJob(j *corvov1.FetchBatchJob) *Job {
	job := &Job{
		ID:          j.GetJobId(),
		Queue:       j.GetQueue(),
		Attempt:     int(j.GetAttempt()),
		MaxAttempts: int(j.GetMaxRetries()),
		Payload:     json.RawMessage(j.GetPayloadJson()),
		Priority:    priorityOf(j.GetPriority()),
		TraceParent: j.GetTraceParent(),
		leaseToken:  j.GetLeaseToken(),
	}
	if len(job.Payload) == 0 {
		job.Payload = json.RawMessage("{}")
	}
	if cp := strings.TrimSpace(j.GetCheckpointJson()); cp != "" && cp != "null" {
		job.Checkpoint = json.RawMessage(cp)
	}
	if t := j.GetTagsJson(); t != "" {
		_ = json.Unmarshal([]byte(t), &job.Tags)
	}
	if ms := j.GetLeaseDeadlineMs(); ms > 0 {
		job.LeaseDeadline = time.UnixMilli(ms)
	}
	return job
}

// Decode parses the payload into v (as json.Unmarshal).
func (j *Job) Decode(v any) error { return json.Unmarshal(j.Payload, v) }

// DecodeCheckpoint parses the previous attempt's checkpoint into v; false when there is none.
func (j *Job) DecodeCheckpoint(v any) (bool, error) {
	if j.Checkpoint == nil {
		return false, nil
	}
	return true, json.Unmarshal(j.Checkpoint, v)
}

// Progress records the job's progress, a JSON object (a map, a struct, or json.RawMessage).
// It is sent with the next heartbeat, at most a second later, and is visible through
// GetJob. It returns an error for a value that is not a JSON object or is over 1 MiB.
func (j *Job) Progress(v any) error {
	text, err := objectJSON(v)
	if err != nil {
		return fmt.Errorf("corvo: progress: %w", err)
	}
	j.set(&j.progress, text)
	return nil
}

// SetCheckpoint records a checkpoint, a JSON object, sent like Progress. If this attempt
// fails, the next one receives it as Job.Checkpoint.
func (j *Job) SetCheckpoint(v any) error {
	text, err := objectJSON(v)
	if err != nil {
		return fmt.Errorf("corvo: checkpoint: %w", err)
	}
	j.set(&j.checkpoint, text)
	return nil
}

func (j *Job) set(field *string, text string) {
	j.mu.Lock()
	*field = text
	j.version++
	notify := j.notify
	j.mu.Unlock()
	if notify != nil {
		notify()
	}
}

// updates returns the progress and checkpoint set so far and their version.
func (j *Job) updates() (progress, checkpoint string, version uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.progress, j.checkpoint, j.version
}

func (j *Job) currentVersion() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.version
}

func objectJSON(v any) (string, error) {
	text, err := encodeJSON(v)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(strings.TrimSpace(text), "{") {
		return "", errors.New("must be a JSON object")
	}
	if len(text) > jsonBytesMax {
		return "", fmt.Errorf("is %d bytes, at most %d", len(text), jsonBytesMax)
	}
	return text, nil
}

// Fail returns an error that fails the job with message msg; its backtrace is the stack of
// the Fail call. (Any error fails the job; this one also records where.)
func Fail(msg string) error {
	return &failure{msg: msg, stack: debug.Stack()}
}

// Failf is Fail with a format.
func Failf(format string, args ...any) error {
	return &failure{msg: fmt.Sprintf(format, args...), stack: debug.Stack()}
}

type failure struct {
	msg   string
	stack []byte
}

func (f *failure) Error() string { return f.msg }

// outcome is what a handler decided: complete with a result, or fail.
type outcome struct {
	ok        bool
	result    string // JSON, "" = none
	err       string
	backtrace string
}

func failOutcome(msg, backtrace string) *outcome {
	return &outcome{err: truncate(msg, textBytesMax), backtrace: truncate(backtrace, textBytesMax)}
}

// runHandler calls h and turns what it returned, or its panic, into an outcome.
func runHandler(ctx context.Context, h HandlerFunc, job *Job) (out *outcome) {
	defer func() {
		if r := recover(); r != nil {
			out = failOutcome(panicMessage(r), string(debug.Stack()))
		}
	}()
	result, err := h(ctx, job)
	if err != nil {
		return failOutcome(err.Error(), backtraceOf(err))
	}
	text, err := encodeJSON(result)
	if err != nil {
		return failOutcome(fmt.Sprintf("the handler's result is not JSON: %v", err), "")
	}
	if len(text) > jsonBytesMax {
		return failOutcome(fmt.Sprintf("the handler's result is %d bytes, at most %d", len(text), jsonBytesMax), "")
	}
	return &outcome{ok: true, result: text}
}

func panicMessage(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return fmt.Sprint(r)
}

// backtraceOf is the stack recorded by Fail, or an error's "%+v" form when that says more
// than its message (errors that carry a stack print it so).
func backtraceOf(err error) string {
	var f *failure
	if errors.As(err, &f) {
		return string(f.stack)
	}
	if long := fmt.Sprintf("%+v", err); long != err.Error() {
		return long
	}
	return ""
}

// truncate cuts s to at most n bytes, on a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const marker = "… (truncated)"
	cut := n - len(marker)
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + marker
}
