package corvo

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// Job admin results are the generated messages (documented in proto/corvo/v1).
type (
	// JobInfo is a job as stored: state, attempts, lease, progress, result, last error.
	JobInfo = corvov1.Job
	// QueueInfo is a queue's counts, rates and settings.
	QueueInfo = corvov1.Queue
	// Operation is a bulk operation's progress.
	Operation = corvov1.Operation
	// WorkerStream is one open worker stream.
	WorkerStream = corvov1.WorkerStream
	// JobState is a job's lifecycle state.
	JobState = corvov1.JobState
	// BulkAction is what BulkJobs does to each job.
	BulkAction = corvov1.BulkAction
)

// Job states.
const (
	StatePending   = corvov1.JobState_JOB_STATE_PENDING
	StateScheduled = corvov1.JobState_JOB_STATE_SCHEDULED
	StateActive    = corvov1.JobState_JOB_STATE_ACTIVE
	StateRetrying  = corvov1.JobState_JOB_STATE_RETRYING
	StateHeld      = corvov1.JobState_JOB_STATE_HELD
	StateCompleted = corvov1.JobState_JOB_STATE_COMPLETED
	StateDead      = corvov1.JobState_JOB_STATE_DEAD
	StateCancelled = corvov1.JobState_JOB_STATE_CANCELLED
)

// Bulk actions.
const (
	BulkRetry       = corvov1.BulkAction_BULK_ACTION_RETRY
	BulkCancel      = corvov1.BulkAction_BULK_ACTION_CANCEL
	BulkDelete      = corvov1.BulkAction_BULK_ACTION_DELETE
	BulkMove        = corvov1.BulkAction_BULK_ACTION_MOVE
	BulkSetPriority = corvov1.BulkAction_BULK_ACTION_SET_PRIORITY
)

// GetJob returns the job with its current state.
func (c *Client) GetJob(ctx context.Context, id string) (*JobInfo, error) {
	var out *corvov1.GetJobResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.jobs(cc).GetJob(ctx, &corvov1.GetJobRequest{JobId: id}, o...)
		return err
	})
	return out.GetJob(), err
}

// CancelJob cancels a job that is not finished and returns its new state. A running job's
// worker is told to stop.
func (c *Client) CancelJob(ctx context.Context, id string) (JobState, error) {
	var out *corvov1.CancelJobResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.jobs(cc).CancelJob(ctx, &corvov1.CancelJobRequest{JobId: id}, o...)
		return err
	})
	return out.GetState(), err
}

// RetryJob puts a dead, cancelled or completed job back to pending with a fresh attempt
// budget and returns its new state.
func (c *Client) RetryJob(ctx context.Context, id string) (JobState, error) {
	var out *corvov1.RetryJobResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.jobs(cc).RetryJob(ctx, &corvov1.RetryJobRequest{JobId: id}, o...)
		return err
	})
	return out.GetState(), err
}

// DeleteJob removes a job that is not active.
func (c *Client) DeleteJob(ctx context.Context, id string) error {
	return c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) error {
		_, err := c.jobs(cc).DeleteJob(ctx, &corvov1.DeleteJobRequest{JobId: id}, o...)
		return err
	})
}

// JobFilter selects jobs: every filter given must match.
type JobFilter struct {
	Queue string
	// States: any of these (ListJobs uses at most one).
	States          []JobState
	Priority        Priority
	Tags            map[string]string
	PayloadContains string
	ErrorContains   string
	CreatedAfter    time.Time
	CreatedBefore   time.Time
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func (f JobFilter) proto() (*corvov1.JobFilter, error) {
	prio, err := f.Priority.proto()
	if err != nil {
		return nil, configError("%v", err)
	}
	return &corvov1.JobFilter{
		Queue:           f.Queue,
		States:          f.States,
		Priority:        prio,
		Tags:            f.Tags,
		PayloadContains: f.PayloadContains,
		ErrorContains:   f.ErrorContains,
		CreatedAfter:    timestamp(f.CreatedAfter),
		CreatedBefore:   timestamp(f.CreatedBefore),
	}, nil
}

// ListJobsOptions page through jobs.
type ListJobsOptions struct {
	// PageSize is 1..1000 (0: 100).
	PageSize int
	// PageToken is the previous page's NextPageToken (empty: the first page).
	PageToken string
	// Consistent waits (at most 10 s) until the read view holds every write the node had
	// applied when the call arrived.
	Consistent bool
}

// JobPage is one page of ListJobs.
type JobPage struct {
	Jobs []*JobInfo
	// NextPageToken is empty on the last page.
	NextPageToken string
}

// ListJobs returns the jobs matching filter, newest first, a page at a time.
func (c *Client) ListJobs(ctx context.Context, filter JobFilter, page ListJobsOptions) (*JobPage, error) {
	if len(filter.States) > 1 {
		return nil, configError("ListJobs filters on at most one state")
	}
	f, err := filter.proto()
	if err != nil {
		return nil, err
	}
	req := &corvov1.ListJobsRequest{
		Queue: f.Queue, Priority: f.Priority, Tags: f.Tags,
		PayloadContains: f.PayloadContains, ErrorContains: f.ErrorContains,
		CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore,
		PageSize: int32(page.PageSize), PageToken: page.PageToken, Consistent: page.Consistent,
	}
	if len(filter.States) == 1 {
		req.State = filter.States[0]
	}
	var out *corvov1.ListJobsResponse
	err = c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.jobs(cc).ListJobs(ctx, req, o...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &JobPage{Jobs: out.GetJobs(), NextPageToken: out.GetNextPageToken()}, nil
}

// BulkRequest selects jobs by IDs (at most 1000) or by Filter, and says what to do.
type BulkRequest struct {
	Action BulkAction
	IDs    []string
	Filter *JobFilter
	// AllJobs must be set to act on every job with an empty filter.
	AllJobs bool
	// TargetQueue for BulkMove.
	TargetQueue string
	// Priority for BulkSetPriority.
	Priority Priority
}

// BulkJobs acts on many jobs at once. A filter selecting more than 1000 jobs goes on as an
// operation (OperationId set; follow it with GetOperation).
func (c *Client) BulkJobs(ctx context.Context, r BulkRequest) (*corvov1.BulkJobsResponse, error) {
	prio, err := r.Priority.proto()
	if err != nil {
		return nil, configError("%v", err)
	}
	req := &corvov1.BulkJobsRequest{
		Action: r.Action, JobIds: r.IDs, AllJobs: r.AllJobs, TargetQueue: r.TargetQueue, Priority: prio,
	}
	if r.Filter != nil {
		if req.Filter, err = r.Filter.proto(); err != nil {
			return nil, err
		}
	}
	var out *corvov1.BulkJobsResponse
	err = c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.jobs(cc).BulkJobs(ctx, req, o...)
		return err
	})
	return out, err
}

// GetOperation returns a bulk operation's progress.
func (c *Client) GetOperation(ctx context.Context, id string) (*Operation, error) {
	var out *corvov1.GetOperationResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.jobs(cc).GetOperation(ctx, &corvov1.GetOperationRequest{OperationId: id}, o...)
		return err
	})
	return out.GetOperation(), err
}

// ListQueues returns every queue with jobs or settings, in name order.
func (c *Client) ListQueues(ctx context.Context) ([]*QueueInfo, error) {
	var out *corvov1.ListQueuesResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).ListQueues(ctx, &corvov1.ListQueuesRequest{}, o...)
		return err
	})
	return out.GetQueues(), err
}

// GetQueue returns one queue (NotFound when it has neither jobs nor settings).
func (c *Client) GetQueue(ctx context.Context, name string) (*QueueInfo, error) {
	var out *corvov1.GetQueueResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).GetQueue(ctx, &corvov1.GetQueueRequest{Queue: name}, o...)
		return err
	})
	return out.GetQueue(), err
}

// PauseQueue stops handing out the queue's jobs (enqueues are still accepted).
func (c *Client) PauseQueue(ctx context.Context, name string) (*QueueInfo, error) {
	var out *corvov1.PauseQueueResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).PauseQueue(ctx, &corvov1.PauseQueueRequest{Queue: name}, o...)
		return err
	})
	return out.GetQueue(), err
}

// ResumeQueue hands out the queue's jobs again.
func (c *Client) ResumeQueue(ctx context.Context, name string) (*QueueInfo, error) {
	var out *corvov1.ResumeQueueResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).ResumeQueue(ctx, &corvov1.ResumeQueueRequest{Queue: name}, o...)
		return err
	})
	return out.GetQueue(), err
}

// DrainQueue pauses the queue, then waits (at most wait, up to 10 min) until none of its jobs
// is active. The call's own timeout is extended by wait.
func (c *Client) DrainQueue(ctx context.Context, name string, wait time.Duration) (*corvov1.DrainQueueResponse, error) {
	if wait < 0 || wait > 10*time.Minute {
		return nil, configError("DrainQueue: wait must be 0..10m, got %v", wait)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.s.callTimeout+wait)
		defer cancel()
	}
	var out *corvov1.DrainQueueResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).DrainQueue(ctx, &corvov1.DrainQueueRequest{Queue: name, WaitMs: uint32(wait.Milliseconds())}, o...)
		return err
	})
	return out, err
}

// ClearQueue removes the queue's pending, scheduled and retrying jobs. Large queues are
// cleared by an operation (OperationId set).
func (c *Client) ClearQueue(ctx context.Context, name string) (*corvov1.ClearQueueResponse, error) {
	var out *corvov1.ClearQueueResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).ClearQueue(ctx, &corvov1.ClearQueueRequest{Queue: name}, o...)
		return err
	})
	return out, err
}

// DestroyQueue removes every job of the queue and its settings; confirm must repeat the
// name. It returns the operation's id.
func (c *Client) DestroyQueue(ctx context.Context, name, confirm string) (string, error) {
	var out *corvov1.DestroyQueueResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).DestroyQueue(ctx, &corvov1.DestroyQueueRequest{Queue: name, Confirm: confirm}, o...)
		return err
	})
	return out.GetOperationId(), err
}

// QueueLimits are a queue's concurrency and rate limits (0: none).
type QueueLimits struct {
	// Concurrency: at most this many active jobs.
	Concurrency int
	// RateStarts jobs start per RateWindow (1 s to 1 day; 0: 1 s).
	RateStarts int
	RateWindow time.Duration
}

// SetQueueLimits sets or removes the queue's limits.
func (c *Client) SetQueueLimits(ctx context.Context, name string, l QueueLimits) (*QueueInfo, error) {
	if l.Concurrency < 0 || l.RateStarts < 0 || l.RateWindow < 0 {
		return nil, configError("SetQueueLimits: negative limit")
	}
	req := &corvov1.SetQueueLimitsRequest{
		Queue: name, Concurrency: uint32(l.Concurrency), RateStarts: uint32(l.RateStarts),
		RateWindowMs: uint64(l.RateWindow.Milliseconds()),
	}
	var out *corvov1.SetQueueLimitsResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).SetQueueLimits(ctx, req, o...)
		return err
	})
	return out.GetQueue(), err
}

// SetQueueRetention sets how long the queue's completed and cancelled jobs (retention) and
// dead jobs (deadRetention) are kept; 0 means the cluster's default.
func (c *Client) SetQueueRetention(ctx context.Context, name string, retention, deadRetention time.Duration) (*QueueInfo, error) {
	if retention < 0 || deadRetention < 0 {
		return nil, configError("SetQueueRetention: negative retention")
	}
	req := &corvov1.SetQueueRetentionRequest{
		Queue: name, RetentionMs: uint64(retention.Milliseconds()), DeadRetentionMs: uint64(deadRetention.Milliseconds()),
	}
	var out *corvov1.SetQueueRetentionResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).SetQueueRetention(ctx, req, o...)
		return err
	})
	return out.GetQueue(), err
}

// ListWorkers returns the worker streams connected to the answering node, only those taking
// jobs from queue when it is not empty.
func (c *Client) ListWorkers(ctx context.Context, queue string) ([]*WorkerStream, error) {
	var out *corvov1.ListWorkersResponse
	err := c.call(ctx, func(ctx context.Context, cc *grpc.ClientConn, o ...grpc.CallOption) (err error) {
		out, err = c.queues(cc).ListWorkers(ctx, &corvov1.ListWorkersRequest{Queue: queue}, o...)
		return err
	})
	return out.GetWorkers(), err
}
