package otel

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// queueProcessor is an sdklog.Processor with one bounded queue and one export
// goroutine. Unlike the SDK's BatchProcessor, which overwrites its oldest records
// silently when full, it rejects new records when the queue is full and counts them, so
// that dropped events show up as a metric. OnEmit never blocks.
type queueProcessor struct {
	exporter sdklog.Exporter
	logger   *slog.Logger
	maxBatch int

	mu     sync.RWMutex // guards closed against sends racing with Shutdown
	closed bool
	queue  chan sdklog.Record

	flush chan chan struct{}
	stop  chan struct{}
	done  chan struct{}
	// ctx is the export context; Shutdown cancels it when its own deadline passes, so a
	// hanging export (retrying an unreachable collector) cannot hold the process.
	ctx    context.Context
	cancel context.CancelFunc

	dropped      atomic.Uint64
	exported     atomic.Uint64
	exportErrors atomic.Uint64
	errMu        sync.Mutex
	lastErr      error
}

func newQueueProcessor(exp sdklog.Exporter, size, maxBatch int, logger *slog.Logger) *queueProcessor {
	ctx, cancel := context.WithCancel(context.Background())
	p := &queueProcessor{
		exporter: exp, logger: logger, maxBatch: maxBatch,
		queue: make(chan sdklog.Record, size),
		flush: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel,
	}
	go p.run()
	return p
}

func (p *queueProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit queues a copy of the record, or drops and counts it when the queue is full.
func (p *queueProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		p.dropped.Add(1)
		return nil
	}
	select {
	case p.queue <- r.Clone():
	default:
		p.dropped.Add(1)
	}
	return nil
}

// run exports whatever is queued each time it wakes: a burst of transitions from one
// evaluation becomes one export, and records queue up while an export is in flight.
func (p *queueProcessor) run() {
	defer close(p.done)
	batch := make([]sdklog.Record, 0, p.maxBatch)
	for {
		select {
		case r := <-p.queue:
			batch = p.drain(append(batch[:0], r))
			p.export(batch)
		case ack := <-p.flush:
			p.exportAll(batch)
			close(ack)
		case <-p.stop:
			p.exportAll(batch)
			return
		}
	}
}

// drain appends queued records without waiting, up to one batch.
func (p *queueProcessor) drain(batch []sdklog.Record) []sdklog.Record {
	for len(batch) < p.maxBatch {
		select {
		case r := <-p.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

func (p *queueProcessor) exportAll(batch []sdklog.Record) {
	for {
		batch = p.drain(batch[:0])
		if len(batch) == 0 {
			return
		}
		p.export(batch)
	}
}

func (p *queueProcessor) export(batch []sdklog.Record) {
	if len(batch) == 0 {
		return
	}
	if err := p.exporter.Export(p.ctx, batch); err != nil {
		p.exportErrors.Add(1)
		p.errMu.Lock()
		p.lastErr = err
		p.errMu.Unlock()
		p.logger.Warn("exporting finding events failed; the batch is lost", "records", len(batch), "err", err)
		return
	}
	p.exported.Add(uint64(len(batch)))
}

// ForceFlush exports everything queued before it returns (or ctx ends).
func (p *queueProcessor) ForceFlush(ctx context.Context) error {
	p.mu.RLock()
	closed := p.closed
	p.mu.RUnlock()
	if closed {
		return nil
	}
	ack := make(chan struct{})
	select {
	case p.flush <- ack:
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return p.exporter.ForceFlush(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops accepting records, exports everything queued, then shuts the exporter
// down. When ctx ends first, the export in flight is cancelled and ctx's error returned.
func (p *queueProcessor) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	// No send can happen any more: the worker's final drain sees every queued record.
	close(p.stop)
	stopCancel := context.AfterFunc(ctx, p.cancel)
	defer stopCancel()
	var err error
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cancel()
		<-p.done
		err = ctx.Err()
	}
	p.cancel()
	return errors.Join(err, p.exporter.Shutdown(ctx))
}

func (p *queueProcessor) lastError() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.lastErr
}
