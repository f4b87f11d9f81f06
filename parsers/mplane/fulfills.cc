#include "parsers/mplane/fulfills.h"

#include "parsers/mplane/token.h"

namespace mplane::model {

MatchResult fulfills(const Message& spec, const Message& capability, MicrosSinceEpoch now) {
  if (schema_hash(spec) != schema_hash(capability)) {
    return {Mismatch::kSchema, "schema differs (registry, parameter names or result columns)"};
  }
  return fulfills_same_schema(spec, capability, now);
}

MatchResult fulfills_same_schema(const Message& spec, const Message& capability,
                                 MicrosSinceEpoch now) {
  if (!spec.when || !capability.when) return {Mismatch::kWhen, "missing temporal scope"};
  if (!spec.when->follows(*capability.when, now)) {
    return {Mismatch::kWhen, "when '" + spec.when->canonical() + "' does not follow '" +
                                 capability.when->canonical() + "'"};
  }
  for (const Parameter& cp : capability.parameters) {
    const Parameter* sp = spec.find_parameter(cp.element->name);
    const Value v = sp ? sp->value : Value::none();
    if (!cp.constraint.matches(v)) {
      return {Mismatch::kConstraint, "parameter " + cp.element->name + " = '" + format_value(v) +
                                         "' violates constraint '" + cp.constraint.canonical() +
                                         "'"};
    }
  }
  return {};
}

}  // namespace mplane::model
