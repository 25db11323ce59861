package dra

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	resourcev1 "k8s.io/api/resource/v1"
	dracel "k8s.io/dynamic-resource-allocation/cel"
)

// A device selector is a CEL expression over the variable `device` (driver, attributes by
// domain, capacity by domain, allowMultipleAllocations), compiled here with the
// scheduler's own environment (k8s.io/dynamic-resource-allocation/cel, the package the
// DRA allocator and the API server's validation use). Without the devices themselves
// (an offline scan, or a class no published device matches yet) the question is whether
// the selector can select a device of a given driver: it is evaluated partially, with
// device.driver known and the attributes, capacity and allowMultipleAllocations unknown.
// A result that is false whatever the unknowns are means the selector never selects that
// driver's devices; true, or a result that depends on the unknowns, means it can.

// compiler is the DRA CEL compiler with the optional allowMultipleAllocations field
// declared (DRAConsumableCapacity, alpha in 1.34), so that an expression the API server
// accepted with the feature on still compiles; the field is unknown in every evaluation.
var compiler = sync.OnceValue(func() interface {
	CompileCELExpression(string, dracel.Options) dracel.CompilationResult
} {
	return dracel.GetCompiler(dracel.Features{EnableConsumableCapacity: true})
})

// unknownDeviceFields are the parts of `device` a partial evaluation leaves unknown.
var unknownDeviceFields = []*cel.AttributePatternType{
	cel.AttributePattern("device").QualString("attributes"),
	cel.AttributePattern("device").QualString("capacity"),
	cel.AttributePattern("device").QualString("allowMultipleAllocations"),
}

// verdicts caches selector verdicts by expression and driver (the same few classes are
// judged at every evaluation). Bounded: past maxVerdicts entries it starts over.
var verdicts = struct {
	sync.Mutex
	m map[[2]string]selectorVerdict
}{m: map[[2]string]selectorVerdict{}}

const maxVerdicts = 1024

type selectorVerdict struct {
	can bool
	err error
}

// SelectorCanSelect reports whether a CEL device selector can select a device of the
// driver, with the DRA scheduler's environment. err says why the expression cannot be
// judged (it does not compile in that environment, or its evaluation fails whatever the
// device's attributes are).
func SelectorCanSelect(expression, driver string) (bool, error) {
	key := [2]string{expression, driver}
	verdicts.Lock()
	v, ok := verdicts.m[key]
	verdicts.Unlock()
	if ok {
		return v.can, v.err
	}
	can, err := canSelect(expression, driver)
	verdicts.Lock()
	if len(verdicts.m) >= maxVerdicts {
		verdicts.m = map[[2]string]selectorVerdict{}
	}
	verdicts.m[key] = selectorVerdict{can: can, err: err}
	verdicts.Unlock()
	return can, err
}

func canSelect(expression, driver string) (bool, error) {
	res := compiler().CompileCELExpression(expression, dracel.Options{DisableCostEstimation: true})
	if res.Error != nil {
		return false, fmt.Errorf("CEL selector %q: %s", expression, res.Error.Detail)
	}
	env := res.Environment
	ast, iss := env.Compile(expression)
	if iss.Err() != nil {
		return false, fmt.Errorf("CEL selector %q: %w", expression, iss.Err())
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptPartialEval), cel.CostLimit(resourcev1.CELSelectorExpressionMaxCost))
	if err != nil {
		return false, fmt.Errorf("CEL selector %q: %w", expression, err)
	}
	act, err := cel.PartialVars(map[string]any{"device": map[string]any{"driver": driver}}, unknownDeviceFields...)
	if err != nil {
		return false, fmt.Errorf("CEL selector %q: %w", expression, err)
	}
	out, _, err := prg.Eval(act)
	switch {
	case out != nil && types.IsUnknown(out):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("CEL selector %q on a device of driver %s: %w", expression, driver, err)
	case out == types.True:
		return true, nil
	case out == types.False:
		return false, nil
	}
	return false, fmt.Errorf("CEL selector %q on a device of driver %s: result %v is not a boolean", expression, driver, out)
}

// SelectorsCanSelect reports whether every selector (a device must match them all: the
// class's and the request's) can select a device of the driver.
func SelectorsCanSelect(selectors []resourcev1.DeviceSelector, driver string) (bool, error) {
	for _, s := range selectors {
		if s.CEL == nil {
			continue
		}
		ok, err := SelectorCanSelect(s.CEL.Expression, driver)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
