package operator

import (
	"fmt"
	"strings"
	"time"
)

// OperatorHandler provides interface to manage types
type OperatorHandler interface {
	Evaluate(key, value interface{}) bool
	validateValueWithStringPattern(key string, value interface{}) bool
	validateValueWithBoolPattern(key bool, value interface{}) bool
	validateValueWithIntPattern(key int64, value interface{}) bool
	validateValueWithFloatPattern(key float64, value interface{}) bool
	validateValueWithMapPattern(key map[string]interface{}, value interface{}) bool
	validateValueWithSlicePattern(key []interface{}, value interface{}) bool
}

// VariableSubstitutionHandler defines the handler function for variable substitution
type VariableSubstitutionHandler = func(log nopLogger, ctx any, pattern interface{}) (interface{}, error)

// CreateOperatorHandler returns the operator handler based on the operator used in condition
func CreateOperatorHandler(log nopLogger, ctx any, op ConditionOperator) OperatorHandler {
	str := strings.ToLower(string(op))
	switch str {
	case strings.ToLower(string(conditionOperators["Equal"])),
		strings.ToLower(string(conditionOperators["Equals"])):
		return NewEqualHandler(log, ctx)

	case strings.ToLower(string(conditionOperators["NotEqual"])),
		strings.ToLower(string(conditionOperators["NotEquals"])):
		return NewNotEqualHandler(log, ctx)

	// deprecated
	case strings.ToLower(string(conditionOperators["In"])):
		return NewInHandler(log, ctx)

	case strings.ToLower(string(conditionOperators["AnyIn"])):
		return NewAnyInHandler(log, ctx)

	case strings.ToLower(string(conditionOperators["AllIn"])):
		return NewAllInHandler(log, ctx)

	// deprecated
	case strings.ToLower(string(conditionOperators["NotIn"])):
		return NewNotInHandler(log, ctx)

	case strings.ToLower(string(conditionOperators["AnyNotIn"])):
		return NewAnyNotInHandler(log, ctx)

	case strings.ToLower(string(conditionOperators["AllNotIn"])):
		return NewAllNotInHandler(log, ctx)

	case strings.ToLower(string(conditionOperators["GreaterThanOrEquals"])),
		strings.ToLower(string(conditionOperators["GreaterThan"])),
		strings.ToLower(string(conditionOperators["LessThanOrEquals"])),
		strings.ToLower(string(conditionOperators["LessThan"])):
		return NewNumericOperatorHandler(log, ctx, op)

	case strings.ToLower(string(conditionOperators["DurationGreaterThanOrEquals"])),
		strings.ToLower(string(conditionOperators["DurationGreaterThan"])),
		strings.ToLower(string(conditionOperators["DurationLessThanOrEquals"])),
		strings.ToLower(string(conditionOperators["DurationLessThan"])):
		log.V(2).Info("DEPRECATED: The Duration* operators have been replaced with the other existing operators that now also support duration values", "operator", str)
		return NewDurationOperatorHandler(log, ctx, op)

	default:
		log.V(2).Info("operator not supported", "operator", str)
	}

	return nil
}

func parseDuration(key, value interface{}) (*time.Duration, *time.Duration, error) {
	var keyDuration *time.Duration
	var valueDuration *time.Duration
	var err error

	// We need to first ensure at least one of the values is actually a duration string.
	switch typedKey := key.(type) {
	case string:
		duration, err := time.ParseDuration(typedKey)
		if err == nil && key != "0" {
			keyDuration = &duration
		}
	}
	switch typedValue := value.(type) {
	case string:
		duration, err := time.ParseDuration(typedValue)
		if err == nil && value != "0" {
			valueDuration = &duration
		}
	}
	if keyDuration == nil && valueDuration == nil {
		return keyDuration, valueDuration, fmt.Errorf("neither value is a duration")
	}

	if keyDuration == nil {
		var duration time.Duration

		switch typedKey := key.(type) {
		case int:
			duration = time.Duration(typedKey) * time.Second
		case int64:
			duration = time.Duration(typedKey) * time.Second
		case float64:
			duration = time.Duration(typedKey) * time.Second
		default:
			return keyDuration, valueDuration, fmt.Errorf("no valid duration value")
		}

		keyDuration = &duration
	}

	if valueDuration == nil {
		var duration time.Duration

		switch typedValue := value.(type) {
		case int:
			duration = time.Duration(typedValue) * time.Second
		case int64:
			duration = time.Duration(typedValue) * time.Second
		case float64:
			duration = time.Duration(typedValue) * time.Second
		default:
			return keyDuration, valueDuration, fmt.Errorf("no valid duration value")
		}

		valueDuration = &duration
	}

	return keyDuration, valueDuration, err
}
