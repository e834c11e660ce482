package corvo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// fakeServer is an in-process WorkerService whose StreamLifecycle pushes the jobs it holds
// as credits allow and records the outcomes, with knobs to refuse frames or break streams.
type fakeServer struct {
	corvov1.UnimplementedWorkerServiceServer

	mu        sync.Mutex
	ready     []*corvov1.FetchBatchJob
	outcomes  map[string]string // job id -> "ack:<result>" or "fail:<error>"
	refuse    int               // refuse this many frames carrying outcomes (overloaded)
	refused   int
	breakOnce bool   // end the first stream with UNAVAILABLE after its first outcome frame
	deny      string // answer every frame PERMISSION_DENIED with this message
	streams   int
	maxCredit int32
	frames    []*corvov1.StreamLifecycleRequest // every frame received, in order
	wake      chan struct{}
	leader    string // GetServerInfo answers UNAVAILABLE naming this leader
	infoCalls atomic.Int32
}

func (f *fakeServer) GetServerInfo(ctx context.Context, _ *corvov1.GetServerInfoRequest) (*corvov1.GetServerInfoResponse, error) {
	f.infoCalls.Add(1)
	if f.leader != "" {
		_ = grpc.SetTrailer(ctx, metadata.Pairs("x-corvo-leader", f.leader, "grpc-retry-pushback-ms", "10"))
		return nil, status.Error(codes.Unavailable, "not the leader")
	}
	return &corvov1.GetServerInfoResponse{ServerVersion: "fake"}, nil
}

func newFakeServer(jobs int) *fakeServer {
	f := &fakeServer{outcomes: map[string]string{}, wake: make(chan struct{}, 1)}
	for i := range jobs {
		f.ready = append(f.ready, &corvov1.FetchBatchJob{
			JobId: fmt.Sprintf("job-%d", i), Queue: "q", Attempt: 1, MaxRetries: 3,
			PayloadJson: fmt.Sprintf(`{"i":%d}`, i), LeaseToken: uint64(1000 + i),
		})
	}
	return f
}

func (f *fakeServer) add(j *corvov1.FetchBatchJob) {
	f.mu.Lock()
	f.ready = append(f.ready, j)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fakeServer) outcome(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.outcomes[id]
}

func (f *fakeServer) StreamLifecycle(s grpc.BidiStreamingServer[corvov1.StreamLifecycleRequest, corvov1.StreamLifecycleResponse]) error {
	f.mu.Lock()
	f.streams++
	first := f.streams == 1
	f.mu.Unlock()
	frames := make(chan *corvov1.StreamLifecycleRequest)
	errc := make(chan error, 1)
	go func() {
		for {
			req, err := s.Recv()
			if err != nil {
				errc <- err
				return
			}
			frames <- req
		}
	}()
	var credits int32
	for {
		// Push what the credits allow.
		f.mu.Lock()
		var push []*corvov1.FetchBatchJob
		for credits > 0 && len(f.ready) > 0 {
			push = append(push, f.ready[0])
			f.ready = f.ready[1:]
			credits--
		}
		f.mu.Unlock()
		if len(push) > 0 {
			if err := s.Send(&corvov1.StreamLifecycleResponse{Jobs: push}); err != nil {
				return err
			}
		}
		select {
		case err := <-errc:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case <-f.wake:
			continue
		case req := <-frames:
			resp := &corvov1.StreamLifecycleResponse{RequestId: req.RequestId}
			f.mu.Lock()
			f.frames = append(f.frames, req)
			outcomes := len(req.Acks) + len(req.Fails)
			switch {
			case f.deny != "":
				resp.ErrorCode, resp.Error = CodePermissionDenied, f.deny
			case outcomes > 0 && f.refused < f.refuse:
				f.refused++
				resp.ErrorCode, resp.Error, resp.RetryAfterMs = CodeOverloaded, "OVERLOADED: frame: rate limit", 30
			default:
				if req.Drain {
					credits = 0 // as the server: the stream's credits are dropped, the frame's ignored
				} else {
					credits += req.Credits
				}
				f.maxCredit = max(f.maxCredit, credits)
				for _, a := range req.Acks {
					f.outcomes[a.JobId] = "ack:" + a.ResultJson
					resp.AckResults = append(resp.AckResults, &corvov1.ItemResult{JobId: a.JobId})
				}
				for _, x := range req.Fails {
					f.outcomes[x.JobId] = "fail:" + x.Error
					resp.FailResults = append(resp.FailResults, &corvov1.ItemResult{JobId: x.JobId})
				}
				for _, h := range req.Heartbeats {
					resp.HeartbeatResults = append(resp.HeartbeatResults, &corvov1.ItemResult{JobId: h.JobId})
				}
			}
			breakNow := first && f.breakOnce && outcomes > 0
			f.mu.Unlock()
			if breakNow {
				return fmt.Errorf("%w", errStreamBroken)
			}
			if err := s.Send(resp); err != nil {
				return err
			}
		}
	}
}

var errStreamBroken = errors.New("test: stream broken")

func startFake(t *testing.T, f corvov1.WorkerServiceServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	corvov1.RegisterWorkerServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return "http://" + lis.Addr().String()
}

func testWorker(t *testing.T, url string, concurrency int, drain time.Duration) *Worker {
	t.Helper()
	w, err := NewWorker(WorkerOptions{
		Options:        Options{Servers: []string{url}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Concurrency:    concurrency,
		DrainTimeout:   drain,
		DisableSignals: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func runWorker(w *Worker) chan error {
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	return done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWorkerRunsJobsWithinItsConcurrency(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFakeServer(8)
	url := startFake(t, f)
	w := testWorker(t, url, 3, time.Second)
	var now, peak, handled atomic.Int32
	w.Handle("q", func(ctx context.Context, job *Job) (any, error) {
		n := now.Add(1)
		defer now.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		handled.Add(1)
		if job.ID == "job-5" {
			panic("kaboom")
		}
		var p struct{ I int }
		if err := job.Decode(&p); err != nil {
			return nil, err
		}
		return map[string]int{"i": p.I}, nil
	})
	done := runWorker(w)
	waitFor(t, "8 outcomes", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.outcomes) == 8
	})
	w.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.outcome("job-2"); got != `ack:{"i":2}` {
		t.Fatalf("job-2: %q", got)
	}
	if got := f.outcome("job-5"); got != "fail:kaboom" {
		t.Fatalf("a panic fails the job: %q", got)
	}
	// The fake may still be reading the worker's last frames: read its fields under its lock.
	f.mu.Lock()
	maxCredit := f.maxCredit
	f.mu.Unlock()
	if peak.Load() > 3 || maxCredit > 3 {
		t.Fatalf("ran %d at once, granted %d credits", peak.Load(), maxCredit)
	}
	waitFor(t, "no leaked goroutines", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestWorkerResendsRefusedAndUnconfirmedOutcomes(t *testing.T) {
	f := newFakeServer(4)
	f.refuse = 2       // two frames refused for the rate
	f.breakOnce = true // and the first stream breaks before answering its first outcomes
	url := startFake(t, f)
	w := testWorker(t, url, 1, time.Second)
	w.Handle("q", func(ctx context.Context, job *Job) (any, error) { return job.ID, nil })
	done := runWorker(w)
	waitFor(t, "4 outcomes", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.outcomes) == 4
	})
	w.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	streams, refused := f.streams, f.refused
	f.mu.Unlock()
	if streams < 2 || refused != 2 {
		t.Fatalf("streams %d refused %d", streams, refused)
	}
	for i := range 4 {
		id := fmt.Sprintf("job-%d", i)
		if got := f.outcome(id); got != fmt.Sprintf(`ack:"%s"`, id) {
			t.Fatalf("%s: %q", id, got)
		}
	}
}

func TestDrainTimeoutFailsRunningJobsBack(t *testing.T) {
	f := newFakeServer(1)
	url := startFake(t, f)
	w := testWorker(t, url, 2, 100*time.Millisecond)
	cause := make(chan error, 1)
	w.Handle("q", func(ctx context.Context, job *Job) (any, error) {
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return "too late", nil
	})
	done := runWorker(w)
	waitFor(t, "the job running", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.ready) == 0
	})
	time.Sleep(20 * time.Millisecond)
	w.Stop()
	// Once the server has the drain frame (at once, though nothing else is to be said), new
	// work is not pushed.
	waitFor(t, "the drain frame", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.frames) >= 2
	})
	f.add(&corvov1.FetchBatchJob{JobId: "late", Queue: "q", LeaseToken: 9})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.outcome("job-0"); got != "fail:"+shuttingDown {
		t.Fatalf("job-0: %q", got)
	}
	if got := <-cause; !errors.Is(got, ErrShuttingDown) {
		t.Fatalf("cause: %v", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ready) != 1 {
		t.Fatal("a draining worker takes no new job")
	}
	if f.streams != 1 {
		t.Fatalf("one stream throughout, got %d", f.streams)
	}
	if d := f.frames[1]; !d.Drain || d.Credits != 0 || len(d.Acks)+len(d.Fails)+len(d.Heartbeats) != 0 {
		t.Fatalf("the drain frame: %v", d)
	}
	for _, x := range f.frames[1:] {
		if !x.Drain || x.Credits != 0 {
			t.Fatalf("a frame after the drain: %v", x)
		}
	}
}

func TestPermissionDeniedEndsRun(t *testing.T) {
	f := newFakeServer(1)
	f.deny = "frame: permission denied: queue q is outside the scopes of API key k"
	url := startFake(t, f)
	w := testWorker(t, url, 1, time.Second)
	w.Handle("q", func(ctx context.Context, job *Job) (any, error) { return nil, nil })
	err := <-runWorker(w)
	var e *Error
	if !errors.As(err, &e) || e.Code != codes.PermissionDenied || e.ErrorCode != CodePermissionDenied {
		t.Fatalf("%v", err)
	}
}

func TestClientMovesToTheNextServerAndFollowsLeaderHints(t *testing.T) {
	// A port nobody listens on.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + lis.Addr().String()
	lis.Close()
	leader := newFakeServer(0)
	leaderURL := startFake(t, leader)
	follower := newFakeServer(0)
	follower.leader = leaderURL[len("http://"):]
	followerURL := startFake(t, follower)

	c, err := NewClient(Options{Servers: []string{dead, followerURL}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.ServerInfo(context.Background())
	if err != nil || info.GetServerVersion() != "fake" {
		t.Fatalf("%v %v", info, err)
	}
	if follower.infoCalls.Load() != 1 || leader.infoCalls.Load() != 1 {
		t.Fatalf("calls: follower %d leader %d", follower.infoCalls.Load(), leader.infoCalls.Load())
	}

	only, _ := NewClient(Options{Servers: []string{dead}, CallTimeout: 2 * time.Second})
	defer only.Close()
	_, err = only.ServerInfo(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Code != codes.Unavailable {
		t.Fatalf("an unreachable server: %v", err)
	}
}
