//go:build ignore

// A long job: it reports progress and a checkpoint after every item (the next attempt resumes
// from it) and stops when the server says so. Here an operator's CancelJob stops it after 3 s.
package main

import (
	"context"
	"errors"
	"log"
	"time"

	corvo "example.invalid/corvo/sdk/go"
)

type Checkpoint struct {
	Next int `json:"next"`
}

func main() {
	ctx := context.Background()
	conn := corvo.Options{Servers: []string{"http://127.0.0.1:8080"}}

	client, err := corvo.NewClient(conn)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	res, err := client.Enqueue(ctx, "reports", map[string]int{"items": 100}, nil)
	if err != nil {
		log.Fatal(err)
	}

	worker, err := corvo.NewWorker(corvo.WorkerOptions{Options: conn, Lease: 30 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	worker.Handle("reports", func(ctx context.Context, job *corvo.Job) (any, error) {
		var payload struct{ Items int }
		if err := job.Decode(&payload); err != nil {
			return nil, err
		}
		var cp Checkpoint // zero, or where the previous attempt stopped
		if _, err := job.DecodeCheckpoint(&cp); err != nil {
			return nil, err
		}
		for i := cp.Next; i < payload.Items; i++ {
			select {
			case <-ctx.Done(): // cancelled, lease lost, or the drain timed out
				if errors.Is(context.Cause(ctx), corvo.ErrJobCancelled) {
					log.Printf("%s stopped by the server at item %d", job.ID, i)
				}
				return nil, context.Cause(ctx)
			case <-time.After(100 * time.Millisecond): // one item of work
			}
			// Sent with the next heartbeat (within a second); visible through GetJob.
			_ = job.Progress(map[string]int{"done": i + 1, "total": payload.Items})
			_ = job.SetCheckpoint(Checkpoint{Next: i + 1})
		}
		return map[string]int{"items": payload.Items}, nil
	})
	go func() {
		time.Sleep(3 * time.Second)
		info, err := client.GetJob(ctx, res.JobID)
		if err == nil {
			log.Printf("progress %s, checkpoint %s", info.ProgressJson, info.CheckpointJson)
		}
		if _, err := client.CancelJob(ctx, res.JobID); err != nil {
			log.Print(err)
		}
		time.Sleep(500 * time.Millisecond)
		worker.Stop()
	}()
	if err := worker.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
