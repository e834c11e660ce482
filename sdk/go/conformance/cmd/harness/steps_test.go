package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

type fakeEnv struct {
	slept       time.Duration
	progresses  []string
	checkpoints []string
	cancels     int
}

func (f *fakeEnv) sleep(d time.Duration) { f.slept += d }
func (f *fakeEnv) progress(v json.RawMessage) error {
	f.progresses = append(f.progresses, string(v))
	return nil
}
func (f *fakeEnv) checkpoint(v json.RawMessage) error {
	f.checkpoints = append(f.checkpoints, string(v))
	return nil
}
func (f *fakeEnv) cancelled() { f.cancels++ }

func interpret(t *testing.T, payload string, attempt int, checkpoint string) (string, error, *fakeEnv) {
	t.Helper()
	f := &fakeEnv{}
	var cp json.RawMessage
	if checkpoint != "" {
		cp = json.RawMessage(checkpoint)
	}
	res, err := runSteps(context.Background(), json.RawMessage(payload), attempt, cp, f)
	if res == nil {
		return "", err, f
	}
	b, jerr := json.Marshal(res)
	if jerr != nil {
		t.Fatal(jerr)
	}
	return string(b), err, f
}

func TestWithoutStepsReturnsAttemptAndCheckpoint(t *testing.T) {
	got, err, _ := interpret(t, `{"n": 1}`, 2, `{"step":1}`)
	if err != nil || got != `{"attempt":2,"checkpoint":{"step":1}}` {
		t.Fatalf("%s %v", got, err)
	}
	got, _, _ = interpret(t, `{}`, 1, "")
	if got != `{"attempt":1,"checkpoint":null}` {
		t.Fatal(got)
	}
}

func TestStepsRunInOrderFilteredByAttempt(t *testing.T) {
	payload := `{"steps":[
		{"op":"sleep","ms":20},
		{"op":"progress","progress":{"pct":50},"checkpoint":{"step":1}},
		{"op":"progress","progress":{"pct":60}},
		{"op":"fail","error":"first attempt","attempt":1},
		{"op":"complete","result":{"done":true}}]}`
	got, err, f := interpret(t, payload, 1, "")
	if err == nil || err.Error() != "first attempt" || got != "" {
		t.Fatalf("attempt 1: %s %v", got, err)
	}
	if f.slept != 20*time.Millisecond || len(f.progresses) != 2 || len(f.checkpoints) != 1 || f.checkpoints[0] != `{"step":1}` {
		t.Fatalf("effects: %+v", f)
	}
	got, err, _ = interpret(t, payload, 2, `{"step":1}`)
	if err != nil || got != `{"done":true}` {
		t.Fatalf("attempt 2: %s %v", got, err)
	}
}

func TestThrowPanicsWithTheMessage(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Fatalf("recovered %v", r)
		}
	}()
	interpret(t, `{"steps":[{"op":"throw","error":"boom"}]}`, 1, "")
	t.Fatal("no panic")
}

func TestWaitCancel(t *testing.T) {
	f := &fakeEnv{}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := runSteps(ctx, json.RawMessage(`{"steps":[{"op":"wait_cancel","timeout_ms":5000}]}`), 1, nil, f)
	if err == nil || err.Error() != "cancelled" || f.cancels != 1 {
		t.Fatalf("%v %d", err, f.cancels)
	}
	_, err, f = interpret(t, `{"steps":[{"op":"wait_cancel","timeout_ms":10}]}`, 1, "")
	if err == nil || err.Error() != "not cancelled" || f.cancels != 0 {
		t.Fatalf("%v", err)
	}
}

func TestCompleteWithoutResult(t *testing.T) {
	got, err, _ := interpret(t, `{"steps":[{"op":"complete"},{"op":"fail","error":"never"}]}`, 1, "")
	if err != nil || got != "" {
		t.Fatalf("%s %v", got, err)
	}
}
