package corvo

import (
	"fmt"
	"testing"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

func pushed(ids ...string) *corvov1.StreamLifecycleResponse {
	r := &corvov1.StreamLifecycleResponse{}
	for i, id := range ids {
		r.Jobs = append(r.Jobs, &corvov1.FetchBatchJob{JobId: id, Queue: "q", Attempt: 1, LeaseToken: uint64(100 + i)})
	}
	return r
}

func ok(ids ...string) []*corvov1.ItemResult {
	var out []*corvov1.ItemResult
	for _, id := range ids {
		out = append(out, &corvov1.ItemResult{JobId: id})
	}
	return out
}

func started(fx effects) []string {
	var ids []string
	for _, e := range fx.start {
		ids = append(ids, e.job.ID)
	}
	return ids
}

func TestCreditsAreGrantedPerFreeSlot(t *testing.T) {
	b := newBook(2, []string{"q"}, "w-1", "host", 60)
	b.streamStarted()
	f := b.frame()
	if f.Credits != 2 || len(f.Queues) != 1 || f.WorkerId != "w-1" || f.LeaseDuration != 60 {
		t.Fatalf("first frame: %v", f)
	}
	if b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId}).fatal != nil {
		t.Fatal("fatal")
	}
	if b.frame() != nil {
		t.Fatal("nothing to send")
	}
	fx := b.onResponse(pushed("a", "b"))
	if got := started(fx); len(got) != 2 || b.running != 2 {
		t.Fatalf("started %v running %d", got, b.running)
	}
	if next := b.finish(b.jobs["a"], &outcome{ok: true, result: `{"x":1}`}); next != nil {
		t.Fatal("no backlog")
	}
	f = b.frame()
	if len(f.Acks) != 1 || f.Acks[0].JobId != "a" || f.Acks[0].LeaseToken != 100 || f.Acks[0].ResultJson != `{"x":1}` || f.Credits != 1 {
		t.Fatalf("ack frame: %v", f)
	}
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId, AckResults: ok("a")})
	if _, held := b.jobs["a"]; held || b.running != 1 {
		t.Fatalf("a settled: %v running %d", held, b.running)
	}
}

func TestFrameRefusedWholeIsSentAgainAfterTheHint(t *testing.T) {
	b := newBook(1, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	f := b.frame()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId})
	b.onResponse(pushed("a"))
	b.finish(b.jobs["a"], failOutcome("boom", "trace"))
	f = b.frame()
	if len(f.Fails) != 1 || f.Fails[0].Error != "boom" || f.Fails[0].Backtrace != "trace" || f.Credits != 1 {
		t.Fatalf("fail frame: %v", f)
	}
	fx := b.onResponse(&corvov1.StreamLifecycleResponse{
		RequestId: f.RequestId, ErrorCode: CodeOverloaded, RetryAfterMs: 450, Error: "OVERLOADED: frame: rate limit",
	})
	if fx.hold.Milliseconds() != 450 || !fx.refused || fx.fatal != nil {
		t.Fatalf("effects: %+v", fx)
	}
	again := b.frame()
	if again == nil || len(again.Fails) != 1 || again.Credits != 1 || again.RequestId == f.RequestId {
		t.Fatalf("re-sent frame: %v", again)
	}
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: again.RequestId, FailResults: ok("a")})
	if !b.idle() {
		t.Fatal("a should be settled")
	}
}

func TestUnconfirmedOutcomesGoOnTheNextStream(t *testing.T) {
	b := newBook(1, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	b.onResponse(pushed("a"))
	b.finish(b.jobs["a"], &outcome{ok: true})
	if f := b.frame(); len(f.Acks) != 1 {
		t.Fatalf("frame: %v", f)
	}
	b.streamBroken()
	b.streamStarted()
	f := b.frame()
	if len(f.Acks) != 1 || f.Acks[0].JobId != "a" || f.Credits != 1 {
		t.Fatalf("first frame of the new stream: %v", f)
	}
}

func TestItemRefusedForGoodIsDropped(t *testing.T) {
	b := newBook(2, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	b.onResponse(pushed("a", "b"))
	b.finish(b.jobs["a"], &outcome{ok: true})
	b.finish(b.jobs["b"], &outcome{ok: true})
	f := b.frame()
	fx := b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId, AckResults: []*corvov1.ItemResult{
		{JobId: "a"},
		{JobId: "b", Code: CodeStaleLease, Message: "lease token for job b is stale"},
	}})
	if !b.idle() || len(fx.dropped) != 1 || fx.dropped[0].id != "b" {
		t.Fatalf("idle %v dropped %v", b.idle(), fx.dropped)
	}
}

func TestFinalProgressIsStoredBeforeTheOutcome(t *testing.T) {
	b := newBook(1, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	b.onResponse(pushed("a"))
	job := b.jobs["a"].job
	if err := job.SetCheckpoint(map[string]int{"step": 3}); err != nil {
		t.Fatal(err)
	}
	b.finish(b.jobs["a"], failOutcome("boom", ""))
	f := b.frame()
	if len(f.Fails) != 0 || len(f.Heartbeats) != 1 || f.Heartbeats[0].CheckpointJson != `{"step":3}` {
		t.Fatalf("first the checkpoint: %v", f)
	}
	if b.frame().GetFails() != nil {
		t.Fatal("the fail must wait for the heartbeat's result")
	}
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId, HeartbeatResults: ok("a")})
	f = b.frame()
	if len(f.Fails) != 1 || len(f.Heartbeats) != 0 {
		t.Fatalf("then the fail: %v", f)
	}
}

func TestProgressGoesWithPromptAndPeriodicHeartbeats(t *testing.T) {
	b := newBook(2, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	b.onResponse(pushed("a", "b"))
	_ = b.jobs["a"].job.Progress(map[string]int{"pct": 10})
	if b.frame() != nil {
		t.Fatal("progress waits for its prompt heartbeat")
	}
	b.progressDue = true
	f := b.frame()
	if len(f.Heartbeats) != 1 || f.Heartbeats[0].JobId != "a" || f.Heartbeats[0].ProgressJson != `{"pct":10}` {
		t.Fatalf("prompt heartbeat: %v", f)
	}
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId, HeartbeatResults: ok("a")})
	b.hbDue = true
	f = b.frame()
	if len(f.Heartbeats) != 2 {
		t.Fatalf("periodic heartbeat of every job: %v", f)
	}
	for _, h := range f.Heartbeats {
		if h.ProgressJson != "" || h.LeaseToken == 0 {
			t.Fatalf("stored progress is not sent again; token always: %v", h)
		}
	}
	fx := b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId, HeartbeatResults: []*corvov1.ItemResult{
		{JobId: "a"}, {JobId: "b", Code: CodeStaleLease},
	}})
	if len(fx.cancel) != 1 || fx.cancel[0].job.ID != "b" {
		t.Fatalf("a stale heartbeat cancels the job: %+v", fx.cancel)
	}
}

func TestCancelJobIDs(t *testing.T) {
	b := newBook(1, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	b.onResponse(pushed("a"))
	fx := b.onResponse(&corvov1.StreamLifecycleResponse{CancelJobIds: []string{"a", "unknown"}})
	if len(fx.cancel) != 1 || fx.cancel[0].job.ID != "a" || !fx.cancel[0].stopped {
		t.Fatalf("cancel: %+v", fx.cancel)
	}
}

func TestOverGrantedJobsWaitForASlot(t *testing.T) {
	b := newBook(1, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	fx := b.onResponse(pushed("a", "b"))
	if got := started(fx); len(got) != 1 || len(b.backlog) != 1 || b.running != 1 {
		t.Fatalf("started %v backlog %d", got, len(b.backlog))
	}
	next := b.finish(b.jobs[started(fx)[0]], &outcome{ok: true})
	if next == nil || b.running != 1 || len(b.backlog) != 0 {
		t.Fatalf("the held job takes the slot: %v", next)
	}
	if f := b.frame(); f.Credits != 0 || len(f.Acks) != 1 {
		t.Fatalf("no credit for a slot taken by a held job: %v", f)
	}
}

func TestDrain(t *testing.T) {
	b := newBook(3, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	b.onResponse(pushed("a", "b"))
	b.drain()
	if f := b.frame(); f == nil || !f.Drain || f.Credits != 0 || len(f.Acks)+len(f.Fails)+len(f.Heartbeats) != 0 {
		t.Fatalf("the drain is told at once, even with nothing else to say: %v", f)
	}
	if f := b.frame(); f != nil {
		t.Fatalf("told once: %v", f)
	}
	fx := b.onResponse(pushed("late"))
	if len(fx.start) != 0 || b.jobs["late"].out.err != shuttingDown {
		t.Fatalf("a job pushed while draining is failed back: %+v", fx)
	}
	b.finish(b.jobs["a"], &outcome{ok: true})
	if b.owed != 0 {
		t.Fatal("no credits while draining")
	}
	left := b.abandonRunning()
	if len(left) != 1 || left[0].job.ID != "b" || b.running != 0 {
		t.Fatalf("abandoned: %v", left)
	}
	b.streamBroken()
	b.streamStarted()
	f := b.frame()
	if !f.Drain || f.Credits != 0 || len(f.Queues) != 0 || len(f.Acks) != 1 || len(f.Fails) != 2 {
		t.Fatalf("the new stream's first frame: %v", f)
	}
	for _, x := range f.Fails {
		if x.Error != shuttingDown {
			t.Fatalf("fail: %v", x)
		}
	}
}

func TestEveryFrameAfterTheDrainSaysSoAndGrantsNothing(t *testing.T) {
	b := newBook(2, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	b.onResponse(pushed("a", "b"))
	b.finish(b.jobs["a"], &outcome{ok: true}) // owes a credit
	b.drain()
	f := b.frame()
	if !f.Drain || f.Credits != 0 || len(f.Acks) != 1 {
		t.Fatalf("drain frame: %v", f)
	}
	// Refused whole: sent again, still telling the drain.
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId, ErrorCode: CodeOverloaded, Error: "OVERLOADED", RetryAfterMs: 10})
	f = b.frame()
	if !f.Drain || f.Credits != 0 || len(f.Acks) != 1 {
		t.Fatalf("re-sent: %v", f)
	}
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: f.RequestId, AckResults: ok("a")})
	b.hbDue = true
	f = b.frame()
	if !f.Drain || f.Credits != 0 || len(f.Heartbeats) != 1 {
		t.Fatalf("heartbeat frame: %v", f)
	}
	b.finish(b.jobs["b"], &outcome{ok: true})
	f = b.frame()
	if !f.Drain || f.Credits != 0 || len(f.Acks) != 1 {
		t.Fatalf("ack frame: %v", f)
	}
	// A new stream during the drain: its first frame says so at once.
	b.streamBroken()
	b.streamStarted()
	f = b.frame()
	if !f.Drain || f.Credits != 0 || len(f.Acks) != 1 {
		t.Fatalf("the new stream's first frame: %v", f)
	}
	if f := b.frame(); f != nil {
		t.Fatalf("nothing more: %v", f)
	}
}

func TestNotLeaderAndPermission(t *testing.T) {
	b := newBook(1, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	f := b.frame()
	fx := b.onResponse(&corvov1.StreamLifecycleResponse{
		RequestId: f.RequestId, ErrorCode: CodeNotLeader, Error: "NOT_LEADER", LeaderAddr: "10.0.0.2:8080", RetryAfterMs: 500,
	})
	if !fx.reconnect || fx.leader != "10.0.0.2:8080" || fx.hold.Milliseconds() != 500 {
		t.Fatalf("not leader: %+v", fx)
	}
	b.streamBroken()
	b.streamStarted()
	f = b.frame()
	fx = b.onResponse(&corvov1.StreamLifecycleResponse{
		RequestId: f.RequestId, ErrorCode: CodePermissionDenied, Error: "frame: permission denied: queue q",
	})
	if fx.fatal == nil || fx.fatal.ErrorCode != CodePermissionDenied {
		t.Fatalf("permission: %+v", fx)
	}
}

func TestFramesAreBounded(t *testing.T) {
	b := newBook(MaxConcurrency, []string{"q"}, "w", "h", 60)
	b.streamStarted()
	b.onResponse(&corvov1.StreamLifecycleResponse{RequestId: b.frame().RequestId})
	var ids []string
	for i := range 1500 {
		ids = append(ids, fmt.Sprintf("j%d", i))
	}
	b.onResponse(pushed(ids...))
	for _, id := range ids {
		b.finish(b.jobs[id], &outcome{ok: true})
	}
	f1, f2 := b.frame(), b.frame()
	if len(f1.Acks) != frameItemsMax || len(f2.Acks) != 500 || b.frame() != nil {
		t.Fatalf("frames of %d and %d acks", len(f1.Acks), len(f2.Acks))
	}
}
