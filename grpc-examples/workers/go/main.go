// A minimal worker: works N jobs of a queue through the SDK, acknowledges each (its result
// says which job it was), and exits 0 once their outcomes are delivered.
//
//	go run . SERVER_URL QUEUE N
//
// The API key, when the server needs one, comes from CORVO_API_KEY.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"

	corvo "example.invalid/corvo/sdk/go"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: minimal SERVER_URL QUEUE N")
		os.Exit(2)
	}
	server, queue := os.Args[1], os.Args[2]
	n, err := strconv.Atoi(os.Args[3])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "minimal: N must be a positive number")
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	worker, err := corvo.NewWorker(corvo.WorkerOptions{
		Options: corvo.Options{Servers: []string{server}, Logger: log},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "minimal:", err)
		os.Exit(1)
	}
	var done atomic.Int64
	worker.Handle(queue, func(ctx context.Context, job *corvo.Job) (any, error) {
		if done.Add(1) >= int64(n) {
			worker.Stop() // the outcome of this job is still delivered before Run returns
		}
		fmt.Printf("worked %s (attempt %d)\n", job.ID, job.Attempt)
		return map[string]string{"worked_by": "go", "job_id": job.ID}, nil
	})
	if err := worker.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "minimal:", err)
		os.Exit(1)
	}
}
