package main

import (
	"context"
	"encoding/json"
	"time"

	corvo "example.invalid/corvo/sdk/go"
)

// step is one instruction of a job's payload (sdk/conformance/README.md).
type step struct {
	Op         string          `json:"op"`
	Attempt    *int            `json:"attempt"`
	Ms         int64           `json:"ms"`
	Progress   json.RawMessage `json:"progress"`
	Checkpoint json.RawMessage `json:"checkpoint"`
	TimeoutMs  int64           `json:"timeout_ms"`
	Result     json.RawMessage `json:"result"`
	Error      string          `json:"error"`
}

// env is what the steps act on: the job's SDK calls and the harness's output.
type env interface {
	sleep(d time.Duration)
	progress(v json.RawMessage) error
	checkpoint(v json.RawMessage) error
	cancelled()
}

// given: a field present with a value other than null.
func given(v json.RawMessage) bool { return len(v) > 0 && string(v) != "null" }

// runSteps interprets the payload for one attempt: with "steps", runs those of this attempt
// in order until a terminal one; the result otherwise is {"attempt", "checkpoint"}.
func runSteps(ctx context.Context, payload json.RawMessage, attempt int, checkpoint json.RawMessage, e env) (any, error) {
	var p struct {
		Steps []step `json:"steps"`
	}
	_ = json.Unmarshal(payload, &p) // a payload without steps (or not an object) has none
	for i, s := range p.Steps {
		if s.Attempt != nil && *s.Attempt != attempt {
			continue
		}
		switch s.Op {
		case "sleep":
			e.sleep(time.Duration(s.Ms) * time.Millisecond)
		case "progress":
			if given(s.Progress) {
				if err := e.progress(s.Progress); err != nil {
					return nil, err
				}
			}
			if given(s.Checkpoint) {
				if err := e.checkpoint(s.Checkpoint); err != nil {
					return nil, err
				}
			}
		case "wait_cancel":
			t := time.NewTimer(time.Duration(s.TimeoutMs) * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				e.cancelled()
				return nil, corvo.Fail("cancelled")
			case <-t.C:
				return nil, corvo.Fail("not cancelled")
			}
		case "complete":
			if !given(s.Result) {
				return nil, nil
			}
			return s.Result, nil
		case "fail":
			return nil, corvo.Fail(s.Error)
		case "throw":
			panic(s.Error)
		default:
			return nil, corvo.Failf("steps[%d]: unknown op %q", i, s.Op)
		}
	}
	cp := json.RawMessage("null")
	if given(checkpoint) {
		cp = checkpoint
	}
	return map[string]any{"attempt": attempt, "checkpoint": cp}, nil
}

// jobEnv runs the steps against a real job.
type jobEnv struct {
	job *corvo.Job
	out *printer
}

func (e jobEnv) sleep(d time.Duration)              { time.Sleep(d) }
func (e jobEnv) progress(v json.RawMessage) error   { return e.job.Progress(v) }
func (e jobEnv) checkpoint(v json.RawMessage) error { return e.job.SetCheckpoint(v) }
func (e jobEnv) cancelled() {
	e.out.print(event{Event: "cancelled", JobID: e.job.ID})
}
