package operator

import (
	"slices"
)

var deprecatedOperators = map[string][]string{
	"In":    {"AllIn", "AnyIn"},
	"NotIn": {"AllNotIn", "AnyNotIn"},
}

func GetAllConditionOperators() []string {
	operators := make([]string, 0, len(conditionOperators))
	for k := range conditionOperators {
		operators = append(operators, k)
	}
	return operators
}

func GetAllDeprecatedOperators() []string {
	operators := make([]string, 0, len(deprecatedOperators))
	for k := range deprecatedOperators {
		operators = append(operators, k)
	}
	return operators
}

func GetDeprecatedOperatorAlternative(op string) []string {
	alts, ok := deprecatedOperators[op]
	if !ok {
		arr := make([]string, 0)
		return arr
	}
	return alts
}

func IsOperatorValid(operator ConditionOperator) bool {
	return slices.Contains(GetAllConditionOperators(), string(operator))
}

func IsOperatorDeprecated(operator ConditionOperator) bool {
	return slices.Contains(GetAllDeprecatedOperators(), string(operator))
}
