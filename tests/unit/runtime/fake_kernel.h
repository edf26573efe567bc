// An in-memory Kernel for unit tests of runtime/linux/apply.h: operations
// change a HostState the way the kernel would (as far as netdsl models it),
// with faults injected per operation. No root, no netlink.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runtime/linux/kernel.h"

namespace netdsl::runtime::testing {

class FakeKernel : public Kernel {
 public:
  /// The state as the kernel holds it (links carry ifindex, up and alias).
  HostState state;
  /// Features MissingFeatures reports missing.
  std::set<std::string> missing_features;
  /// Called before each operation runs; a non-zero errno fails it.
  std::function<int(const Op&)> fault;
  /// Operations run so far (rollbacks included), as Describe() text.
  std::vector<std::string> log;

  /// Adds a link as someone else would (no marker unless `alias` is set).
  Link& AddLink(const std::string& name, const std::string& kind, const std::string& alias = "");

  std::vector<std::pair<std::string, std::string>> MissingFeatures(const std::vector<std::string>& features) override;
  bool Read(const HostState& desired, HostState* actual, std::string* error, const ReadScope& scope) override;
  bool Execute(const std::vector<Op>& ops, bool tolerant, std::string* error) override;

 private:
  int next_ifindex_ = 2;
  /// 0 or the errno of applying `op` to `state`.
  int Run(const Op& op);
  Link* Find(const std::string& name);
  void DropObjectsOn(const std::string& dev);
};

}  // namespace netdsl::runtime::testing
