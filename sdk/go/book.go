package corvo

import (
	"context"
	"time"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// The worker's bookkeeping, without I/O: the jobs it holds, the outcomes the server has not
// confirmed, the credits it owes the server, and what goes into the next frame. Only the
// worker's run loop uses it (not safe for concurrent use).

// Frame bounds: the server takes at most 1024 items per frame and 16 MiB messages.
const (
	frameItemsMax = 1000
	frameBytesMax = 8 << 20
)

// shuttingDown is the error of jobs failed back by a draining worker.
const shuttingDown = "worker shutting down"

type entryState int

const (
	// Leased beyond the concurrency (the server pushed more than granted): waits for a slot.
	entryBacklog entryState = iota
	entryRunning
	// The handler returned (or the job was failed back): the outcome awaits confirmation.
	entryDone
)

// entry is one job leased to this worker, from its delivery until its outcome is confirmed.
type entry struct {
	job     *Job
	state   entryState
	cancel  context.CancelCauseFunc // set when the handler starts
	out     *outcome                // set when done
	stopped bool                    // the server said to stop it

	sentIn uint64 // the frame carrying the outcome (0: to send)
	// Progress and checkpoint: the version in the heartbeat in flight, and the version the
	// server stored. A finished job's outcome waits until its final version is stored (a
	// fail after the checkpoint, or the next attempt would miss it).
	hbIn         uint64
	hbVersion    uint64
	confirmed    uint64
	finalVersion uint64
}

// sentFrame is what a frame in flight carried, to settle or re-send it on its response.
type sentFrame struct {
	outcomes   []string
	heartbeats []string
	credits    int
	drain      bool
}

// effects are what a response asks of the run loop.
type effects struct {
	start   []*entry // jobs to run now
	cancel  []*entry // running jobs the server stopped
	dropped []dropped
	fatal   *Error // the worker cannot go on (permission, key)
	// reconnect to leader (when set) after waiting hold.
	reconnect bool
	leader    string
	// hold: send nothing before this long (the server's retry hint).
	hold time.Duration
	// refused: a frame or items refused for now, to be sent again (for pacing).
	refused bool
	// notice: a pusher error the server reported, for the log.
	notice string
}

type dropped struct {
	id, reason string
	stopped    bool // the server had stopped the job: a refusal is expected
}

type book struct {
	concurrency int
	queues      []string
	workerID    string
	hostname    string
	leaseSecs   int32

	draining bool
	// drainTold: the current stream carried a frame with drain (so the server pushes
	// nothing more on it).
	drainTold bool
	jobs      map[string]*entry
	backlog   []*entry
	running   int
	owed      int // credits to grant on the next frame
	inflight  map[uint64]*sentFrame
	lastID    uint64

	hbDue       bool // a periodic heartbeat of every held job is due
	progressDue bool // a prompt heartbeat of updated progress is due
}

func newBook(concurrency int, queues []string, workerID, hostname string, leaseSecs int32) *book {
	return &book{
		concurrency: concurrency,
		queues:      queues,
		workerID:    workerID,
		hostname:    hostname,
		leaseSecs:   leaseSecs,
		jobs:        map[string]*entry{},
		inflight:    map[uint64]*sentFrame{},
	}
}

// idle: nothing held, nothing to confirm.
func (b *book) idle() bool { return len(b.jobs) == 0 }

// streamStarted: a new stream holds no credits; grant the free slots.
func (b *book) streamStarted() {
	b.owed = 0
	b.drainTold = false
	if !b.draining {
		b.owed = max(0, b.concurrency-b.running-len(b.backlog))
	}
}

// streamBroken: what the old stream did not confirm is sent again on the next one.
func (b *book) streamBroken() {
	for id, f := range b.inflight {
		b.requeue(id, f)
	}
	clear(b.inflight)
	b.owed = 0
}

// requeue marks the items of frame id that are still waiting for it as to be sent again.
func (b *book) requeue(id uint64, f *sentFrame) {
	for _, jid := range f.outcomes {
		if e := b.jobs[jid]; e != nil && e.sentIn == id {
			e.sentIn = 0
		}
	}
	for _, jid := range f.heartbeats {
		if e := b.jobs[jid]; e != nil && e.hbIn == id {
			e.hbIn = 0
		}
	}
}

// receive takes a pushed job: run it now, hold it for a slot, or (draining) fail it back.
// It returns the entry to start, or nil.
func (b *book) receive(j *Job) (start *entry, replaced *entry) {
	if old := b.jobs[j.ID]; old != nil {
		// Leased again (our lease was lost meanwhile): the old attempt is stale.
		b.forget(old)
		replaced = old
	}
	e := &entry{job: j}
	b.jobs[j.ID] = e
	switch {
	case b.draining:
		e.state = entryDone
		e.out = failOutcome(shuttingDown, "")
	case b.running < b.concurrency:
		e.state = entryRunning
		b.running++
		start = e
	default:
		e.state = entryBacklog
		b.backlog = append(b.backlog, e)
	}
	return start, replaced
}

// forget drops an entry whatever its state.
func (b *book) forget(e *entry) {
	switch e.state {
	case entryRunning:
		b.running--
	case entryBacklog:
		for i, x := range b.backlog {
			if x == e {
				b.backlog = append(b.backlog[:i], b.backlog[i+1:]...)
				break
			}
		}
	}
	if b.jobs[e.job.ID] == e {
		delete(b.jobs, e.job.ID)
	}
}

// finish records a handler's outcome. It returns a held job to start in the freed slot, if
// any (otherwise the slot's credit is owed to the server).
func (b *book) finish(e *entry, out *outcome) *entry {
	if b.jobs[e.job.ID] != e || e.state != entryRunning {
		return nil // failed back by the drain timeout, or replaced: the result is not wanted
	}
	e.state = entryDone
	e.out = out
	e.finalVersion = e.job.currentVersion()
	b.running--
	if b.draining {
		return nil
	}
	if len(b.backlog) > 0 {
		next := b.backlog[0]
		b.backlog = b.backlog[1:]
		next.state = entryRunning
		b.running++
		return next
	}
	b.owed++
	return nil
}

// drain: no more credits, and the next frame tells the server (drain); held jobs that never
// started are failed back.
func (b *book) drain() {
	b.draining = true
	b.owed = 0
	for _, e := range b.backlog {
		e.state = entryDone
		e.out = failOutcome(shuttingDown, "")
	}
	b.backlog = nil
}

// abandonRunning fails back every running job (the drain timeout ran out) and returns them
// so that their handlers are told.
func (b *book) abandonRunning() []*entry {
	var out []*entry
	for _, e := range b.jobs {
		if e.state == entryRunning {
			e.state = entryDone
			e.out = failOutcome(shuttingDown, "")
			e.finalVersion = e.job.currentVersion()
			out = append(out, e)
		}
	}
	b.running = 0
	return out
}

// outcomeReady: the outcome can go (its final progress is stored).
func (e *entry) outcomeReady() bool {
	return e.state == entryDone && e.sentIn == 0 && e.confirmed >= e.finalVersion
}

// wantsHeartbeat: the entry goes into this frame's heartbeats.
func (b *book) wantsHeartbeat(e *entry) bool {
	if e.hbIn != 0 || e.sentIn != 0 {
		return false
	}
	dirty := e.job.currentVersion() > e.confirmed
	if e.state == entryDone {
		// Only to store the final progress before the outcome.
		return e.finalVersion > e.confirmed
	}
	return b.hbDue || (dirty && b.progressDue)
}

// frame builds the next frame, or nil when there is nothing to send. Items are bounded
// (frameItemsMax, about frameBytesMax); what does not fit goes in the next frame. While
// draining every frame carries drain, and a stream not told yet gets one even when empty.
func (b *book) frame() *corvov1.StreamLifecycleRequest {
	req := &corvov1.StreamLifecycleRequest{}
	sf := &sentFrame{}
	id := b.lastID + 1
	items, bytes := 0, 0
	full := func(n int) bool {
		return items >= frameItemsMax || (items > 0 && bytes+n > frameBytesMax)
	}
	heartbeatsLeft := false
	for jid, e := range b.jobs {
		if e.outcomeReady() {
			o := e.out
			n := len(o.result) + len(o.err) + len(o.backtrace) + 64
			if full(n) {
				continue
			}
			if o.ok {
				req.Acks = append(req.Acks, &corvov1.AckBatchItem{JobId: jid, ResultJson: o.result, LeaseToken: e.job.leaseToken})
			} else {
				req.Fails = append(req.Fails, &corvov1.LifecycleFailItem{JobId: jid, Error: o.err, Backtrace: o.backtrace, LeaseToken: e.job.leaseToken})
			}
			e.sentIn = id
			sf.outcomes = append(sf.outcomes, jid)
			items++
			bytes += n
			continue
		}
		if !b.wantsHeartbeat(e) {
			continue
		}
		progress, checkpoint, version := e.job.updates()
		if version <= e.confirmed {
			progress, checkpoint = "", "" // stored already: extend the lease only
		}
		n := len(progress) + len(checkpoint) + 64
		if full(n) {
			heartbeatsLeft = true
			continue
		}
		req.Heartbeats = append(req.Heartbeats, &corvov1.LifecycleHeartbeatItem{
			JobId: jid, ProgressJson: progress, CheckpointJson: checkpoint, LeaseToken: e.job.leaseToken,
		})
		e.hbIn, e.hbVersion = id, version
		sf.heartbeats = append(sf.heartbeats, jid)
		items++
		bytes += n
	}
	if !heartbeatsLeft {
		b.hbDue, b.progressDue = false, false
	}
	if b.owed > 0 && !b.draining {
		req.Credits = int32(b.owed)
		req.Queues = b.queues
		req.WorkerId = b.workerID
		req.Hostname = b.hostname
		req.LeaseDuration = b.leaseSecs
		sf.credits = b.owed
		b.owed = 0
	}
	if items == 0 && sf.credits == 0 && (!b.draining || b.drainTold) {
		return nil
	}
	if b.draining {
		req.Drain, sf.drain, b.drainTold = true, true, true
	}
	b.lastID = id
	req.RequestId = id
	b.inflight[id] = sf
	return req
}

// retryable: refused for now; the same items may be sent again after the hint.
func retryable(code ErrorCode) bool {
	switch code {
	case CodeOverloaded, CodeUnavailable, CodeNotLeader, CodeInternal:
		return true
	}
	return false
}

// holdFor is how long to wait after a refusal: the server's hint, or a default.
func holdFor(code ErrorCode, retryAfterMs int64) time.Duration {
	if retryAfterMs > 0 {
		return time.Duration(retryAfterMs) * time.Millisecond
	}
	if code == CodeInternal {
		return time.Second
	}
	return backoffFirst
}

// onResponse applies one response of the stream.
func (b *book) onResponse(r *corvov1.StreamLifecycleResponse) effects {
	var fx effects
	for _, pj := range r.GetJobs() {
		start, replaced := b.receive(newJob(pj))
		if replaced != nil {
			fx.cancel = append(fx.cancel, replaced)
		}
		if start != nil {
			fx.start = append(fx.start, start)
		}
	}
	if id := r.GetRequestId(); id != 0 {
		if sf := b.inflight[id]; sf != nil {
			delete(b.inflight, id)
			b.settle(id, r, sf, &fx)
		}
	} else if code := r.GetErrorCode(); code != CodeUnspecified {
		// The pusher's error: it retries by itself; a leader hint is worth following.
		if code == CodeNotLeader {
			fx.reconnect, fx.leader = true, r.GetLeaderAddr()
			fx.hold = holdFor(code, r.GetRetryAfterMs())
		} else if code == CodePermissionDenied || code == CodeUnauthenticated {
			fx.fatal = frameError(code, r.GetError(), 0, "")
		} else {
			fx.notice = r.GetError()
		}
	}
	for _, id := range r.GetCancelJobIds() {
		e := b.jobs[id]
		if e == nil {
			continue
		}
		e.stopped = true
		switch e.state {
		case entryRunning:
			fx.cancel = append(fx.cancel, e)
		case entryBacklog:
			b.forget(e) // taken back before it started
		}
	}
	return fx
}

// settle applies the response to frame id.
func (b *book) settle(id uint64, r *corvov1.StreamLifecycleResponse, sf *sentFrame, fx *effects) {
	code := r.GetErrorCode()
	results := len(r.GetAckResults()) + len(r.GetFailResults()) + len(r.GetHeartbeatResults())
	if code != CodeUnspecified && results == 0 {
		// Refused whole: nothing of it was applied.
		if !b.draining {
			b.owed += sf.credits
		}
		switch {
		case retryable(code):
			b.requeue(id, sf)
			if sf.drain {
				b.drainTold = false // not applied: tell it again
			}
			fx.refused = true
			fx.hold = max(fx.hold, holdFor(code, r.GetRetryAfterMs()))
			if code == CodeNotLeader {
				fx.reconnect, fx.leader = true, r.GetLeaderAddr()
			}
		case code == CodePermissionDenied || code == CodeUnauthenticated:
			b.requeue(id, sf)
			fx.fatal = frameError(code, r.GetError(), 0, "")
		default:
			// Refused for good (the SDK checks what it sends, so this is unexpected): the
			// outcomes are dropped; the server reclaims the jobs when their leases end.
			for _, jid := range sf.outcomes {
				if e := b.jobs[jid]; e != nil && e.sentIn == id {
					b.forget(e)
					fx.dropped = append(fx.dropped, dropped{jid, r.GetError(), e.stopped})
				}
			}
			for _, jid := range sf.heartbeats {
				if e := b.jobs[jid]; e != nil && e.hbIn == id {
					e.hbIn, e.confirmed = 0, max(e.confirmed, e.hbVersion)
				}
			}
			if sf.credits > 0 {
				fx.hold = time.Second // do not hammer a server refusing the registration
			}
		}
		return
	}
	for _, list := range [][]*corvov1.ItemResult{r.GetAckResults(), r.GetFailResults()} {
		for _, res := range list {
			e := b.jobs[res.GetJobId()]
			if e == nil || e.sentIn != id {
				continue
			}
			switch c := res.GetCode(); {
			case c == CodeUnspecified:
				b.forget(e)
			case retryable(c):
				e.sentIn = 0
				fx.refused = true
				fx.hold = max(fx.hold, holdFor(c, r.GetRetryAfterMs()))
			default:
				b.forget(e)
				fx.dropped = append(fx.dropped, dropped{e.job.ID, res.GetMessage(), e.stopped})
			}
		}
	}
	for _, res := range r.GetHeartbeatResults() {
		e := b.jobs[res.GetJobId()]
		if e == nil || e.hbIn != id {
			continue
		}
		e.hbIn = 0
		c := res.GetCode()
		if retryable(c) {
			continue
		}
		e.confirmed = max(e.confirmed, e.hbVersion)
		if c != CodeUnspecified {
			e.stopped = true
			if e.state == entryRunning {
				fx.cancel = append(fx.cancel, e) // stale lease, not found: stop it
			}
		}
	}
	b.requeue(id, sf) // items without a result
}
