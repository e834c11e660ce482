//go:build ignore

// A flaky handler: the job fails twice, is retried after 1 s then 2 s (exponential backoff),
// and completes on its third attempt. A job that uses all of its attempts goes dead with its
// last error and stack trace.
package main

import (
	"context"
	"errors"
	"log"
	"time"

	corvo "example.invalid/corvo/sdk/go"
)

func main() {
	ctx := context.Background()
	conn := corvo.Options{Servers: []string{"http://127.0.0.1:8080"}}

	client, err := corvo.NewClient(conn)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	res, err := client.Enqueue(ctx, "payments", map[string]any{"invoice": 42}, &corvo.EnqueueOptions{
		MaxAttempts: 5,
		Backoff:     &corvo.Backoff{Kind: corvo.BackoffExponential, Base: time.Second, Cap: time.Minute},
		UniqueKey:   "invoice-42", // enqueue it again: StatusDuplicate, same job id
	})
	if err != nil {
		log.Fatal(err)
	}

	worker, err := corvo.NewWorker(corvo.WorkerOptions{Options: conn})
	if err != nil {
		log.Fatal(err)
	}
	worker.Handle("payments", func(ctx context.Context, job *corvo.Job) (any, error) {
		switch job.Attempt {
		case 1:
			return nil, errors.New("gateway timeout") // a plain error fails the attempt
		case 2:
			return nil, corvo.Failf("gateway answered %d", 502) // the same, with a stack trace
		}
		if job.Attempt == job.MaxAttempts {
			log.Printf("last attempt for %s", job.ID)
		}
		return map[string]bool{"charged": true}, nil
	})
	go func() {
		for {
			time.Sleep(500 * time.Millisecond)
			info, err := client.GetJob(ctx, res.JobID)
			if err != nil {
				log.Fatal(err)
			}
			log.Printf("%s: %v, attempt %d, last error %q", info.Id, info.State, info.Attempt, info.LastError)
			if info.State == corvo.StateCompleted || info.State == corvo.StateDead {
				worker.Stop() // drain and let Run return
				return
			}
		}
	}()
	if err := worker.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
