//go:build ignore

// Enqueue two jobs, then work the queue with four jobs at once until SIGTERM or Ctrl-C.
package main

import (
	"context"
	"log"

	corvo "example.invalid/corvo/sdk/go"
)

type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
}

func main() {
	ctx := context.Background()
	conn := corvo.Options{Servers: []string{"http://127.0.0.1:8080"}} // API key: CORVO_API_KEY

	client, err := corvo.NewClient(conn)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for _, to := range []string{"ada@example.com", "alan@example.com"} {
		res, err := client.Enqueue(ctx, "emails", Email{To: to, Subject: "Welcome"}, &corvo.EnqueueOptions{
			Priority: corvo.PriorityHigh,
			Tags:     map[string]string{"kind": "welcome"},
		})
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("enqueued %s (%s)", res.JobID, res.Status)
	}

	worker, err := corvo.NewWorker(corvo.WorkerOptions{Options: conn, Concurrency: 4})
	if err != nil {
		log.Fatal(err)
	}
	worker.Handle("emails", func(ctx context.Context, job *corvo.Job) (any, error) {
		var email Email
		if err := job.Decode(&email); err != nil {
			return nil, err // fails the attempt; retried by the job's backoff
		}
		log.Printf("sending %q to %s (attempt %d of %d)", email.Subject, email.To, job.Attempt, job.MaxAttempts)
		return map[string]string{"message_id": "msg-" + job.ID}, nil // the job's result
	})
	if err := worker.Run(ctx); err != nil { // until SIGTERM/SIGINT, then a graceful drain
		log.Fatal(err)
	}
}
