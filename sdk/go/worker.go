package corvo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// Worker defaults and bounds.
const (
	DefaultConcurrency  = 1
	MaxConcurrency      = 4096
	DefaultLease        = 60 * time.Second
	DefaultDrainTimeout = 30 * time.Second
	// promptEvery bounds how often progress is sent between periodic heartbeats.
	promptEvery = time.Second
	// flushGrace: after the drain timeout, how long the worker keeps trying to deliver the
	// outcomes it still holds before it gives up on them.
	flushGrace = 5 * time.Second
	// paceWindow: after a refusal for overload, frames are spaced by the server's hint for
	// this long.
	paceWindow = 10 * time.Second
)

// WorkerOptions configure a Worker: the connection Options, and how it works.
type WorkerOptions struct {
	Options
	// WorkerID names the worker in `corvo workers` and in job state; default
	// "<hostname>-<8 random hex digits>", unique per process start.
	WorkerID string
	// Hostname reported to the server; default os.Hostname().
	Hostname string
	// Concurrency is how many jobs run at once, 1..4096 (default 1).
	Concurrency int
	// Lease is each job's lease, whole seconds up to an hour (default 60 s); running jobs
	// are heartbeated every third of it.
	Lease time.Duration
	// DrainTimeout is how long running jobs may finish after a stop (default 30 s); those
	// still running then are failed back with "worker shutting down".
	DrainTimeout time.Duration
	// DisableSignals: Run does not handle SIGTERM and SIGINT (stop it with its context or
	// Stop instead).
	DisableSignals bool
}

// Worker runs handlers for the jobs of its queues over one StreamLifecycle stream: it grants
// the server Concurrency credits, heartbeats running jobs, delivers every outcome (again
// after a refusal or a reconnect), reconnects forever, and drains on SIGTERM/SIGINT.
type Worker struct {
	s            *settings
	id           string
	hostname     string
	concurrency  int
	leaseSecs    int32
	drainTimeout time.Duration
	signals      bool

	mu       sync.Mutex
	handlers map[string]HandlerFunc
	started  bool
	stopOnce sync.Once
	stop     chan struct{}
}

var queueName = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,255}$`)

// NewWorker checks opts and returns a worker. Add handlers with Handle, then Run it.
func NewWorker(opts WorkerOptions) (*Worker, error) {
	s, err := opts.Options.settings()
	if err != nil {
		return nil, err
	}
	w := &Worker{
		s:            s,
		id:           opts.WorkerID,
		hostname:     opts.Hostname,
		concurrency:  opts.Concurrency,
		drainTimeout: opts.DrainTimeout,
		signals:      !opts.DisableSignals,
		handlers:     map[string]HandlerFunc{},
		stop:         make(chan struct{}),
	}
	if w.hostname == "" {
		if w.hostname, err = os.Hostname(); err != nil || w.hostname == "" {
			w.hostname = "localhost"
		}
	}
	if w.id == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		w.id = w.hostname + "-" + hex.EncodeToString(b[:])
	}
	if len(w.id) > 255 || len(w.hostname) > 255 {
		return nil, configError("WorkerID and Hostname are at most 255 bytes")
	}
	if w.concurrency == 0 {
		w.concurrency = DefaultConcurrency
	}
	if w.concurrency < 1 || w.concurrency > MaxConcurrency {
		return nil, configError("Concurrency must be 1..%d, got %d", MaxConcurrency, w.concurrency)
	}
	lease := opts.Lease
	if lease == 0 {
		lease = DefaultLease
	}
	if lease < time.Second || lease > time.Hour {
		return nil, configError("Lease must be 1s..1h, got %v", lease)
	}
	w.leaseSecs = int32((lease + time.Second - 1) / time.Second)
	if w.drainTimeout == 0 {
		w.drainTimeout = DefaultDrainTimeout
	}
	if w.drainTimeout < 0 {
		return nil, configError("DrainTimeout must not be negative")
	}
	return w, nil
}

// ID is the worker's id.
func (w *Worker) ID() string { return w.id }

// Handle sets the handler of queue's jobs (one per queue; several queues per worker). It
// panics on a nil handler, a second handler for a queue, or a call after Run.
func (w *Worker) Handle(queue string, h HandlerFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case h == nil:
		panic("corvo: nil handler for queue " + queue)
	case w.handlers[queue] != nil:
		panic("corvo: a second handler for queue " + queue)
	case w.started:
		panic("corvo: Handle after Run")
	}
	w.handlers[queue] = h
}

// Stop asks Run to drain: take no new jobs, let running ones finish (up to the drain
// timeout), deliver their outcomes, and return. It does not wait; it may be called before
// or during Run, any number of times.
func (w *Worker) Stop() {
	w.stopOnce.Do(func() { close(w.stop) })
}

// Run works jobs until it is stopped: ctx cancelled, Stop, or (unless DisableSignals)
// SIGTERM or SIGINT; then it drains and returns nil. A second signal during the drain stops
// at once (ErrForcedStop). It returns an error when the server refuses the worker for good
// (a bad key, a queue outside its scopes: *Error with the code), or when outcomes could not
// be delivered before the drain's end. Reconnects never give up otherwise.
//
// Handlers' contexts keep ctx's values but not its cancellation (a cancelled ctx means
// "drain", not "abandon the jobs").
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("corvo: a Worker runs once")
	}
	w.started = true
	queues := make([]string, 0, len(w.handlers))
	for q := range w.handlers {
		queues = append(queues, q)
	}
	w.mu.Unlock()
	if len(queues) == 0 {
		return configError("no handler: call Handle before Run")
	}
	sort.Strings(queues)
	for _, q := range queues {
		if !queueName.MatchString(q) {
			return configError("queue name %q: 1..255 of letters, digits and . _ : -", q)
		}
	}
	r := &runner{
		w:       w,
		log:     w.s.log.With("worker_id", w.id),
		pool:    newPool(w.s),
		book:    newBook(w.concurrency, queues, w.id, w.hostname, w.leaseSecs),
		backoff: newBackoff(),
		jobBase: context.WithoutCancel(ctx),
		tracer:  otel.Tracer(tracerName),
		resp:    make(chan streamEvent),
		sent:    make(chan uint64),
		opened:  make(chan openResult),
		done:    make(chan jobDone),
		notify:  make(chan struct{}, 1),
		exited:  make(chan struct{}),
	}
	defer r.pool.close()
	return r.run(ctx, queues)
}

// runner is one Run: the loop that owns the bookkeeping and the stream.
type runner struct {
	w       *Worker
	log     *slog.Logger
	pool    *pool
	book    *book
	backoff *backoff
	jobBase context.Context
	tracer  trace.Tracer

	resp   chan streamEvent
	sent   chan uint64 // a stream's sender finished a frame
	opened chan openResult
	done   chan jobDone
	notify chan struct{} // a handler set progress or a checkpoint
	exited chan struct{} // closed when Run returns

	streamBase  context.Context // parent of every stream; cancelled when Run returns
	gen         uint64
	cur         *streamConn
	connecting  bool
	reconnectAt time.Time
	holdUntil   time.Time
	paceGap     time.Duration
	paceUntil   time.Time
	lastSent    time.Time
	promptAt    time.Time
	lastPrompt  time.Time
	drainEnd    time.Time // zero until draining; then the drain timeout's end
	abandoned   bool
	flushEnd    time.Time
	// failedBefore: the last attempt failed, so the next one resets the dial backoff.
	failedBefore bool
}

type streamConn struct {
	gen      uint64
	target   target
	stream   grpc.BidiStreamingClient[corvov1.StreamLifecycleRequest, corvov1.StreamLifecycleResponse]
	ctx      context.Context // ours, not stream.Context(): gRPC cancels that one when the stream ends
	cancel   context.CancelFunc
	frames   chan *corvov1.StreamLifecycleRequest // to the sender (capacity 1)
	idle     bool                                 // the sender waits for a frame
	answered bool                                 // a response arrived
}

type streamEvent struct {
	gen  uint64
	resp *corvov1.StreamLifecycleResponse
	err  error
	md   []metadata.MD
}

type openResult struct {
	gen    uint64
	target target
	stream grpc.BidiStreamingClient[corvov1.StreamLifecycleRequest, corvov1.StreamLifecycleResponse]
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

type jobDone struct {
	e   *entry
	out *outcome
}

func (r *runner) run(ctx context.Context, queues []string) error {
	var cancelStreams context.CancelFunc
	r.streamBase, cancelStreams = context.WithCancel(context.Background())
	defer func() {
		close(r.exited)
		cancelStreams()
	}()

	var sigs chan os.Signal
	if r.w.signals {
		sigs = make(chan os.Signal, 2)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
		defer signal.Stop(sigs)
	}
	ctxDone := ctx.Done()
	stop := r.w.stop

	heartbeat := time.NewTicker(time.Duration(r.book.leaseSecs) * time.Second / 3)
	defer heartbeat.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()

	r.log.Info("corvo: worker starting", "queues", queues, "concurrency", r.book.concurrency,
		"lease_secs", r.book.leaseSecs, "servers", len(r.w.s.targets))
	for {
		now := time.Now()
		if err := r.timers(now); err != nil {
			r.abort(err)
			return err
		}
		if r.book.draining && r.book.idle() {
			r.closeStream(true)
			r.log.Info("corvo: worker drained and stopped")
			return nil
		}
		if err := r.connect(now); err != nil {
			r.abort(err)
			return err
		}
		r.flush(now)
		resetTimer(wake, r.nextWake(now))

		select {
		case <-ctxDone:
			ctxDone = nil
			r.startDrain("context done")
		case <-stop:
			stop = nil
			r.startDrain("Stop called")
		case sig := <-sigs:
			if r.book.draining {
				r.log.Warn("corvo: second signal: stopping at once", "signal", sig.String(), "undelivered", len(r.book.jobs))
				r.abort(ErrForcedStop)
				return ErrForcedStop
			}
			r.startDrain(sig.String())
		case o := <-r.opened:
			if err := r.onOpened(o); err != nil {
				r.abort(err)
				return err
			}
		case ev := <-r.resp:
			if err := r.onEvent(ev); err != nil {
				r.abort(err)
				return err
			}
		case g := <-r.sent:
			if r.cur != nil && r.cur.gen == g {
				r.cur.idle = true
			}
		case d := <-r.done:
			if next := r.book.finish(d.e, d.out); next != nil {
				r.start(next)
			}
		case <-r.notify:
			if r.promptAt.IsZero() {
				r.promptAt = later(time.Now(), r.lastPrompt.Add(promptEvery))
			}
		case <-heartbeat.C:
			r.book.hbDue = true
		case <-wake.C:
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// resetTimer re-arms t for d (works with the timer semantics of every Go version).
func resetTimer(t *time.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(max(d, 0))
}

// timers applies the deadlines that passed.
func (r *runner) timers(now time.Time) error {
	if !r.promptAt.IsZero() && !now.Before(r.promptAt) {
		r.book.progressDue = true
		r.promptAt, r.lastPrompt = time.Time{}, now
	}
	if !r.drainEnd.IsZero() && !r.abandoned && !now.Before(r.drainEnd) {
		r.abandoned = true
		r.flushEnd = now.Add(flushGrace)
		if left := r.book.abandonRunning(); len(left) > 0 {
			r.log.Warn("corvo: drain timeout: failing running jobs back", "jobs", len(left), "error", shuttingDown)
			for _, e := range left {
				if e.cancel != nil {
					e.cancel(ErrShuttingDown)
				}
			}
		}
	}
	if !r.flushEnd.IsZero() && !now.Before(r.flushEnd) && !r.book.idle() {
		return fmt.Errorf("corvo: drain ended with %d outcomes not delivered (the server reclaims those jobs when their leases end)", len(r.book.jobs))
	}
	return nil
}

// nextWake is how long until the next deadline the loop must act on.
func (r *runner) nextWake(now time.Time) time.Duration {
	next := now.Add(time.Hour)
	consider := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	if r.cur == nil && !r.connecting {
		consider(r.reconnectAt)
	}
	if now.Before(r.holdUntil) {
		consider(r.holdUntil)
	}
	if r.paced(now) {
		consider(r.lastSent.Add(r.paceGap))
	}
	consider(r.promptAt)
	if !r.abandoned {
		consider(r.drainEnd)
	}
	consider(r.flushEnd)
	return next.Sub(now)
}

func (r *runner) paced(now time.Time) bool {
	return r.paceGap > 0 && now.Before(r.paceUntil) && now.Before(r.lastSent.Add(r.paceGap))
}

// connect opens a stream in the background when none is open and the wait is over.
func (r *runner) connect(now time.Time) error {
	if r.cur != nil || r.connecting || now.Before(r.reconnectAt) {
		return nil
	}
	t, cc, err := r.pool.pick()
	if err != nil {
		return err // the dial options are invalid: no retry can fix that
	}
	if r.failedBefore {
		cc.ResetConnectBackoff() // the SDK's own backoff has waited: dial now
	}
	r.connecting = true
	r.gen++
	gen := r.gen
	sctx, cancel := context.WithCancel(r.streamBase)
	go func() {
		s, err := corvov1.NewWorkerServiceClient(cc).StreamLifecycle(sctx)
		select {
		case r.opened <- openResult{gen: gen, target: t, stream: s, ctx: sctx, cancel: cancel, err: err}:
		case <-r.exited:
			cancel()
		}
	}()
	return nil
}

func (r *runner) onOpened(o openResult) error {
	r.connecting = false
	if o.err != nil {
		o.cancel()
		return r.streamFailed(o.target, false, statusError(nil, o.err))
	}
	c := &streamConn{
		gen:    o.gen,
		target: o.target,
		stream: o.stream,
		ctx:    o.ctx,
		cancel: o.cancel,
		frames: make(chan *corvov1.StreamLifecycleRequest, 1),
		idle:   true,
	}
	r.cur = c
	r.book.streamStarted()
	r.log.Info("corvo: worker stream open", "server", c.target.String(), "draining", r.book.draining)
	go r.receive(c)
	go r.send(c)
	return nil
}

// receive forwards the stream's responses to the loop until the stream ends.
func (r *runner) receive(c *streamConn) {
	ctx := c.ctx
	for {
		resp, err := c.stream.Recv()
		ev := streamEvent{gen: c.gen, resp: resp, err: err}
		if err != nil {
			ev.md = streamMetadata(c.stream)
		}
		select {
		case r.resp <- ev:
		case <-ctx.Done():
			return
		case <-r.exited:
			return
		}
		if err != nil {
			return
		}
	}
}

// send writes the frames the loop hands over, one at a time, and half-closes the stream
// when the loop closes frames.
func (r *runner) send(c *streamConn) {
	ctx := c.ctx
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				err := c.stream.CloseSend()
				r.log.Debug("corvo: worker stream half-closed", "error", err)
				return
			}
			r.log.Debug("corvo: frame", "id", f.RequestId, "acks", len(f.Acks), "fails", len(f.Fails), "heartbeats", len(f.Heartbeats), "credits", f.Credits, "drain", f.Drain)
			if err := c.stream.Send(f); err != nil {
				return // the receiver reports how the stream ended
			}
			select {
			case r.sent <- c.gen:
			case <-ctx.Done():
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// flush hands the sender the next frame when it is free and nothing holds frames back.
func (r *runner) flush(now time.Time) {
	c := r.cur
	if c == nil || !c.idle || now.Before(r.holdUntil) || r.paced(now) {
		return
	}
	f := r.book.frame()
	if f == nil {
		return
	}
	c.idle = false
	r.lastSent = now
	c.frames <- f // never blocks: the sender is waiting and the channel has room
}

// onEvent handles a response or the end of a stream.
func (r *runner) onEvent(ev streamEvent) error {
	c := r.cur
	if c == nil || c.gen != ev.gen {
		return nil // a stream given up already
	}
	if ev.err != nil {
		r.log.Debug("corvo: worker stream ended", "server", c.target.String(), "error", ev.err)
		e := statusError(nil, ev.err, ev.md...)
		if errors.Is(ev.err, io.EOF) {
			e = &Error{Code: codes.Unavailable, Message: "the server ended the stream"}
		}
		answered := c.answered
		r.dropStream()
		return r.streamFailed(c.target, answered, e)
	}
	if !c.answered {
		c.answered = true
		r.backoff.reset()
		r.failedBefore = false
	}
	r.log.Debug("corvo: response", "id", ev.resp.GetRequestId(), "jobs", len(ev.resp.GetJobs()), "error", ev.resp.GetError(), "credits", ev.resp.GetCredits())
	fx := r.book.onResponse(ev.resp)
	for _, e := range fx.start {
		r.start(e)
	}
	for _, e := range fx.cancel {
		e.stopped = true
		if e.cancel != nil {
			r.log.Info("corvo: the server stopped a job", "job_id", e.job.ID)
			e.cancel(ErrJobCancelled)
		}
	}
	for _, d := range fx.dropped {
		if d.stopped {
			// The server had stopped the job (cancelled, reassigned): expected.
			r.log.Info("corvo: outcome of a job the server stopped was not taken", "job_id", d.id, "reason", d.reason)
		} else {
			r.log.Warn("corvo: outcome refused by the server; dropped", "job_id", d.id, "reason", d.reason)
		}
	}
	if fx.notice != "" {
		r.log.Debug("corvo: server notice", "error", fx.notice)
	}
	if fx.fatal != nil {
		r.log.Error("corvo: the server refused the worker", "server", c.target.String(), "code", fx.fatal.ErrorCode.String(), "error", fx.fatal.Message)
		return fx.fatal
	}
	now := time.Now()
	if fx.hold > 0 {
		r.holdUntil = later(r.holdUntil, now.Add(fx.hold))
		if fx.refused {
			if now.After(r.paceUntil) {
				r.paceGap = 0
			}
			r.paceGap = max(r.paceGap, fx.hold)
			r.paceUntil = now.Add(paceWindow)
			r.log.Debug("corvo: frame refused for now; waiting", "wait", fx.hold)
		}
	}
	if fx.reconnect {
		r.log.Warn("corvo: the server is not the leader; reconnecting", "server", c.target.String(), "leader", fx.leader)
		r.dropStream()
		if fx.leader != "" {
			r.pool.follow(fx.leader, c.target)
		} else {
			r.pool.failed(c.target)
		}
		r.reconnectAt = now.Add(r.backoff.next(fx.hold))
	}
	return nil
}

// dropStream abandons the current stream; what it did not confirm goes on the next one.
func (r *runner) dropStream() {
	if r.cur != nil {
		r.cur.cancel()
		r.cur = nil
	}
	r.book.streamBroken()
}

// streamFailed decides what follows a failed or broken stream: the end of Run for errors a
// reconnect cannot fix, else a reconnect after backoff (to the leader named, or to the next
// server when this one could not be reached).
func (r *runner) streamFailed(t target, answered bool, e *Error) error {
	if refusedForGood(e.Code) {
		r.log.Error("corvo: the server refused the worker", "server", t.String(), "code", e.Code.String(), "error", e.Message)
		return e
	}
	switch {
	case e.Leader != "":
		r.pool.follow(e.Leader, t)
	case !answered:
		r.pool.failed(t)
	}
	wait := r.backoff.next(e.RetryAfter)
	r.reconnectAt = time.Now().Add(wait)
	msg := "corvo: cannot open the worker stream; retrying"
	if answered {
		msg = "corvo: worker stream lost; reconnecting"
	}
	r.log.Warn(msg, "server", t.String(), "code", e.Code.String(), "error", e.Message,
		"retry_in", wait.Round(time.Millisecond))
	r.failedBefore = true
	return nil
}

// closeStream ends the current stream (half-close first when graceful).
func (r *runner) closeStream(graceful bool) {
	c := r.cur
	if c == nil {
		return
	}
	if graceful {
		close(c.frames)
	}
	c.cancel()
	r.cur = nil
}

// startDrain stops taking jobs: no more credits, held jobs that never started are failed
// back, and the next frame (sent at once) tells the server to push nothing more.
func (r *runner) startDrain(why string) {
	if r.book.draining {
		return
	}
	r.log.Info("corvo: draining", "reason", why, "running", r.book.running, "timeout", r.w.drainTimeout)
	r.book.drain()
	r.drainEnd = time.Now().Add(r.w.drainTimeout)
}

// abort ends Run at once: every handler is told to stop.
func (r *runner) abort(cause error) {
	for _, e := range r.book.jobs {
		if e.cancel != nil {
			e.cancel(cause)
		}
	}
	r.closeStream(false)
}

// start runs a job's handler in its own goroutine, in a span whose parent is the job's
// trace_parent.
func (r *runner) start(e *entry) {
	job := e.job
	r.w.mu.Lock()
	h := r.w.handlers[job.Queue]
	r.w.mu.Unlock()
	job.notify = r.wakeForProgress
	ctx := parentContext(r.jobBase, job.TraceParent)
	ctx, span := r.tracer.Start(ctx, "corvo.worker.execute",
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "corvo"),
			attribute.String("messaging.destination.name", job.Queue),
			attribute.String("messaging.message.id", job.ID),
			attribute.Int("corvo.job.attempt", job.Attempt),
		))
	ctx, cancel := context.WithCancelCause(ctx)
	e.cancel = cancel
	go func() {
		var out *outcome
		if h == nil {
			out = failOutcome("no handler for queue "+job.Queue, "")
		} else {
			out = runHandler(ctx, h, job)
		}
		if !out.ok {
			span.SetStatus(otelcodes.Error, out.err)
		}
		span.End()
		cancel(nil)
		select {
		case r.done <- jobDone{e: e, out: out}:
		case <-r.exited:
		}
	}()
}

func (r *runner) wakeForProgress() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}
