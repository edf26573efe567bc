// Test support for tests/unit/runtime: a plan (HostState) from linux.yaml
// text, with `format: 1` and `host: h` put in front; a read error fails the
// test with the reader's messages.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/linux/plan_reader.h"

namespace netdsl::runtime::testing {

inline HostState PlanOf(const std::string& body) {
  HostState s;
  std::vector<std::string> errors;
  bool ok = ReadPlan("format: 1\nhost: h\n" + body, "desired.yaml", &s, &errors);
  for (const auto& e : errors) MESSAGE(e);
  REQUIRE(ok);
  return s;
}

}  // namespace netdsl::runtime::testing
