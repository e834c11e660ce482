// The Go SDK's conformance harness (sdk/conformance/README.md): one SDK worker whose
// handler follows the steps in each job's payload, reporting on stdout in JSON lines.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corvo "example.invalid/corvo/sdk/go"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// event is one line of output; fields left empty are omitted, except checkpoint on "job".
type event struct {
	Event      string           `json:"event"`
	JobID      string           `json:"job_id,omitempty"`
	Queue      string           `json:"queue,omitempty"`
	Attempt    int              `json:"attempt,omitempty"`
	Checkpoint *json.RawMessage `json:"checkpoint,omitempty"`
}

// printer writes one JSON object per line, each in a single write (stdout is unbuffered).
type printer struct{ mu sync.Mutex }

func (p *printer) print(e event) {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = os.Stdout.Write(append(b, '\n'))
}

func main() {
	os.Exit(run())
}

func run() int {
	var servers, queues list
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	fs.Var(&servers, "server", "server URL (repeatable)")
	fs.Var(&queues, "queue", "queue to work (repeatable)")
	concurrency := fs.Int("concurrency", 1, "jobs at once")
	leaseSecs := fs.Int("lease-secs", 0, "lease in seconds (default: the SDK's)")
	drainMs := fs.Int("drain-timeout-ms", 0, "drain timeout in ms (default: the SDK's)")
	maxJobs := fs.Int("max-jobs", 0, "stop (drain) after this many handler calls returned")
	apiKey := fs.String("api-key", "", "API key")
	caCert := fs.String("ca-cert", "", "CA certificate (PEM) to trust")
	workerID := fs.String("worker-id", "", "worker id (default: the SDK's)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if len(queues) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "harness: at least one --queue, and no positional arguments")
		return 2
	}
	level := slog.LevelInfo
	if os.Getenv("CORVO_LOG") == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	w, err := corvo.NewWorker(corvo.WorkerOptions{
		Options: corvo.Options{
			Servers:    servers,
			APIKey:     *apiKey,
			CACertFile: *caCert,
			Logger:     log,
		},
		WorkerID:     *workerID,
		Concurrency:  *concurrency,
		Lease:        time.Duration(*leaseSecs) * time.Second,
		DrainTimeout: time.Duration(*drainMs) * time.Millisecond,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 1
	}
	out := &printer{}
	var returned atomic.Int64
	handler := func(ctx context.Context, job *corvo.Job) (any, error) {
		cp := json.RawMessage("null")
		if job.Checkpoint != nil {
			cp = job.Checkpoint
		}
		out.print(event{Event: "job", JobID: job.ID, Queue: job.Queue, Attempt: job.Attempt, Checkpoint: &cp})
		defer func() {
			// Runs on a panic too, before the SDK turns it into a fail.
			out.print(event{Event: "finished", JobID: job.ID})
			if n := returned.Add(1); *maxJobs > 0 && n == int64(*maxJobs) {
				w.Stop()
			}
		}()
		return runSteps(ctx, job.Payload, job.Attempt, job.Checkpoint, jobEnv{job: job, out: out})
	}
	seen := map[string]bool{}
	for _, q := range queues {
		if !seen[q] {
			seen[q] = true
			w.Handle(q, handler)
		}
	}
	out.print(event{Event: "started"})
	if err := w.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "harness: worker ended with an error:", err)
		return 1
	}
	out.print(event{Event: "stopped"})
	return 0
}
