package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
)

// A read runs in three parts. One goroutine walks the inputs in order and splits them
// into documents (the byte budget is counted there); workers decode documents in
// parallel; the caller's goroutine takes the results back in input order and applies
// them exactly as a sequential read would: documents numbered, errors listed, the object
// budget counted, duplicates resolved later in that order. Callbacks (Warn, Skipped,
// SkipNotObjects) all run on the caller's goroutine, in input order. At most window
// steps are in flight, so memory stays bounded whatever the input.

// step is one step of a read, in input order.
type step struct {
	kind stepKind
	name string
	// stepDoc: the document, where it starts, and (once done is closed) its result.
	data []byte
	line int
	objs []Object
	err  error
	done chan struct{}
	// stepFile: a Source rendered from another file (see Source.Rendered).
	rendered bool
	// stepEnd: the error that ended reading the file (nil at its end).
	// stepWarn: err's message is a warning. stepFail: err is an input error.
}

type stepKind uint8

const (
	stepFile stepKind = iota // a file starts
	stepDoc                  // a document of it
	stepEnd                  // the file ends
	stepWarn                 // a warning (Options.Warn)
	stepFail                 // an input that cannot be read at all
)

// errStopped ends the walk once the caller has stopped taking steps (a budget).
var errStopped = errors.New("read stopped")

// pipeline is one read's producer side.
type pipeline struct {
	r       *reader
	steps   chan *step
	work    chan *step
	stopped atomic.Bool
}

// workers returns how many documents are decoded at once.
func (r *reader) workers() int {
	if r.opts.Workers > 0 {
		return r.opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// run reads through produce, which emits the steps of the read in order, and applies
// them on the caller's goroutine. It returns the input errors joined.
func (r *reader) run(produce func(p *pipeline)) error {
	n := r.workers()
	p := &pipeline{r: r, steps: make(chan *step, 4*n+16), work: make(chan *step)}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for s := range p.work {
				if !p.stopped.Load() {
					s.objs, s.err = r.decodeDocument(s.data)
				}
				s.data = nil
				close(s.done)
			}
		})
	}
	go func() {
		produce(p)
		close(p.work)
		wg.Wait()
		close(p.steps)
	}()
	c := committer{r: r}
	for s := range p.steps {
		if c.stop {
			continue // drained: the producer ends at its next step
		}
		if s.done != nil {
			<-s.done
		}
		if c.apply(s) {
			c.stop = true
			p.stopped.Store(true)
		}
	}
	return errors.Join(c.errs...)
}

func (p *pipeline) emit(s *step) bool {
	if p.stopped.Load() {
		return false
	}
	p.steps <- s
	if s.done != nil {
		p.work <- s
	}
	return true
}

func (p *pipeline) warn(msg string) { p.emit(&step{kind: stepWarn, err: errors.New(msg)}) }

// file splits one input into its documents. It reports false when the read must stop
// (a budget).
func (p *pipeline) file(name string, in io.Reader, rendered bool, line int) bool {
	if !p.emit(&step{kind: stepFile, name: name, rendered: rendered, line: line}) {
		return false
	}
	err := eachDocument(budgetReader{in, p.r}, func(d document) error {
		if blank(d.data) {
			return nil
		}
		if !p.emit(&step{kind: stepDoc, name: name, data: bytes.Clone(d.data), line: d.line, done: make(chan struct{})}) {
			return errStopped
		}
		return nil
	})
	if errors.Is(err, errStopped) {
		return false
	}
	return p.emit(&step{kind: stepEnd, name: name, err: err}) && !isBudget(err)
}

// inputs walks paths (files, directories, "-" for stdin) as eachInput does.
func (p *pipeline) inputs(paths []string, stdin io.Reader) {
	for _, path := range paths {
		if path == "-" {
			if !p.file("<stdin>", stdin, false, 0) {
				return
			}
			continue
		}
		files, err := expand(path, p.warn)
		if err != nil {
			if !p.emit(&step{kind: stepFail, err: &InputError{File: path, Err: err}}) {
				return
			}
			continue
		}
		for _, f := range files {
			in, err := fileinput.Open(f)
			if err != nil {
				if !p.emit(&step{kind: stepFail, err: &InputError{File: f, Err: err}}) {
					return
				}
				continue
			}
			more := p.file(f, in, false, 0)
			in.Close()
			if !more {
				return
			}
		}
	}
}

// committer applies steps in input order: what reader.decode did for one document at a
// time.
type committer struct {
	r    *reader
	errs []error
	stop bool
	// The file being read.
	name          string
	lenient       bool
	rendered      bool
	line          int
	n, skipped    int
	fileErrs      []error
	firstInSource int
}

// apply applies one step; it reports true when the read must stop.
func (c *committer) apply(s *step) bool {
	r := c.r
	switch s.kind {
	case stepWarn:
		r.warn(s.err.Error())
	case stepFail:
		c.errs = append(c.errs, s.err)
	case stepFile:
		c.name, c.rendered, c.line = s.name, s.rendered, s.line
		c.n, c.skipped, c.fileErrs, c.firstInSource = 0, 0, nil, len(r.objs)
		c.lenient = r.opts.SkipNotObjects != nil && r.opts.SkipNotObjects(s.name)
	case stepDoc:
		if err := c.doc(s); err != nil {
			c.fileErrs = append(c.fileErrs, &InputError{File: c.name, Err: err})
			return c.end(nil)
		}
	case stepEnd:
		if s.err != nil {
			c.fileErrs = append(c.fileErrs, &InputError{File: c.name, Err: s.err})
		}
		return c.end(s.err)
	}
	return false
}

// doc is the sequential part of reading one document.
func (c *committer) doc(s *step) error {
	r := c.r
	c.n++
	o, err := s.objs, s.err
	if err != nil && c.lenient && errors.Is(err, errNotObject) {
		c.skipped++
		return nil
	}
	if err != nil {
		// A bad document counts against the object budget, so endless garbage ends too.
		if r.bad++; len(r.objs)+r.bad > r.opts.MaxObjects {
			return &BudgetError{What: "objects", Limit: int64(r.opts.MaxObjects)}
		}
		if len(c.fileErrs) < maxErrors {
			c.fileErrs = append(c.fileErrs, &InputError{File: c.name, Doc: c.n, Line: s.line, Err: absoluteLines(err, s.line)})
		} else if len(c.fileErrs) == maxErrors {
			c.fileErrs = append(c.fileErrs, &InputError{File: c.name, Err: fmt.Errorf("more than %d documents cannot be read; the others are not listed", maxErrors)})
		}
		return nil
	}
	if len(r.objs)+r.bad+len(o) > r.opts.MaxObjects {
		return &BudgetError{What: "objects", Limit: int64(r.opts.MaxObjects)}
	}
	for _, ob := range o {
		ob.File, ob.Doc, ob.Line = c.name, c.n, s.line
		if c.rendered {
			ob.Doc, ob.Line = 0, c.line
		}
		r.objs = append(r.objs, ob)
	}
	return nil
}

// end closes the file (readErr: what ended reading it, nil at its end; a document's
// budget error is already in fileErrs) and reports whether the read must stop.
func (c *committer) end(readErr error) bool {
	r := c.r
	stopped := readErr != nil || (len(c.fileErrs) > 0 && isBudget(c.fileErrs[len(c.fileErrs)-1]))
	if !stopped {
		if c.skipped > 0 && r.opts.Skipped != nil {
			r.opts.Skipped(c.name)
		}
		if c.n == 0 && len(c.fileErrs) == 0 && !c.lenient {
			c.fileErrs = append(c.fileErrs, &InputError{File: c.name, Err: errors.New("no Kubernetes object in file")})
		}
	}
	if err := errors.Join(c.fileErrs...); err != nil {
		c.errs = append(c.errs, err)
		if isBudget(err) {
			return true
		}
	}
	c.fileErrs = nil
	return false
}

// decode reads one stream of documents named name into r.objs and returns its errors.
func (r *reader) decode(name string, in io.Reader) error {
	return r.run(func(p *pipeline) { p.file(name, in, false, 0) })
}
