// The kernel environment of an apply: entering a named network namespace and
// probing kernel features in a throwaway namespace.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace netdsl::runtime {

/// setns() into /run/netns/NAME (before any socket is opened).
bool EnterNetns(const std::string& name, std::string* error);

/// Probes each feature by creating a throwaway object of that kind in a fresh
/// network namespace (a thread that unshares its netns). Returns the
/// missing ones with the kernel's reason: {feature, reason}.
std::vector<std::pair<std::string, std::string>> MissingFeatures(const std::vector<std::string>& features);

}  // namespace netdsl::runtime
