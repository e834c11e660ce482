//go:build ignore

// Run until SIGTERM or SIGINT (or the context ends): then no new jobs are taken, running ones
// get up to DrainTimeout to finish, those still running are failed back with "worker
// shutting down" (retried at once elsewhere), and Run returns. A second signal stops at once.
package main

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"os"
	"time"

	corvo "example.invalid/corvo/sdk/go"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	worker, err := corvo.NewWorker(corvo.WorkerOptions{
		Options: corvo.Options{
			Servers: []string{"http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080"},
			Logger:  logger, // connection changes and refused outcomes; never the API key
		},
		Concurrency:  16,
		DrainTimeout: 20 * time.Second, // keep it below the orchestrator's kill grace period
	})
	if err != nil {
		log.Fatal(err)
	}
	worker.Handle("videos", func(ctx context.Context, job *corvo.Job) (any, error) {
		select {
		case <-time.After(5 * time.Second): // transcode
			return map[string]string{"status": "transcoded"}, nil
		case <-ctx.Done(): // the drain timed out (corvo.ErrShuttingDown) or the job was stopped
			return nil, context.Cause(ctx)
		}
	})
	logger.Info("working", "worker_id", worker.ID())
	err = worker.Run(context.Background())
	switch {
	case errors.Is(err, corvo.ErrForcedStop):
		os.Exit(130) // a second signal: some outcomes were not delivered
	case err != nil:
		var e *corvo.Error
		if errors.As(err, &e) {
			logger.Error("refused by the server", "code", e.Code, "corvo_code", e.ErrorCode, "error", e.Message)
		}
		os.Exit(1)
	}
	logger.Info("drained; exiting")
}
