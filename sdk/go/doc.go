// Package corvo is the Go SDK of Corvo, a job server whose workers talk gRPC streams: a
// Client that enqueues and manages jobs and queues, and a Worker that runs handlers for the
// jobs of its queues. Both behave as every Corvo SDK does (sdk/SPEC.md).
//
// Enqueue:
//
//	client, err := corvo.NewClient(corvo.Options{Servers: []string{"http://127.0.0.1:8080"}})
//	res, err := client.Enqueue(ctx, "emails", map[string]string{"to": "ada@example.com"}, nil)
//
// Work:
//
//	worker, err := corvo.NewWorker(corvo.WorkerOptions{Concurrency: 8})
//	worker.Handle("emails", func(ctx context.Context, job *corvo.Job) (any, error) {
//		return map[string]bool{"sent": true}, nil
//	})
//	err = worker.Run(ctx) // until SIGTERM/SIGINT, ctx's end or Stop; then a graceful drain
//
// The worker holds one StreamLifecycle stream: it grants the server Concurrency credits and
// one more per finished job, heartbeats running jobs every third of the lease (with their
// progress and checkpoint), sends every outcome until the server confirms it (again after a
// refusal for overload, or on the next stream after a reconnect), reconnects forever with
// jittered backoff (following leader hints), and on a stop takes no new jobs, lets running
// ones finish for up to DrainTimeout, and fails back those still running.
//
// Errors of calls are *Error values (errors.As) carrying the gRPC code and, where the server
// sent one, Corvo's ErrorCode. Logging goes to a *slog.Logger (Options.Logger); tracing uses
// the OpenTelemetry API (the global tracer provider and propagator) and costs nothing
// without an installed SDK.
//
// The generated messages and stubs are in example.invalid/corvo/sdk/go/gen/corvo/v1.
package corvo
