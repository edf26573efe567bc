// The kernel environment of an apply: entering a named network namespace and
// probing kernel features in a throwaway namespace.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netdsl::runtime {

/// setns() into /run/netns/NAME (before any socket is opened).
bool EnterNetns(const std::string& name, std::string* error);

/// Which network namespace a process is in: its nsfs inode (device and
/// inode number, as `stat -L /proc/self/ns/net` shows them; the same for
/// `--netns NS` and `ip netns exec NS`) and its cookie (SO_NETNS_COOKIE:
/// unique for the boot and never reused, unlike an inode number, which a
/// namespace created later may get again; 0 on kernels before 5.14).
struct NetnsIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t cookie = 0;
  bool operator==(const NetnsIdentity&) const = default;
  /// The name of its lock and journal files: `net-DEV-INO`.
  std::string Key() const;
  /// For messages: `net:[INO]` (as /proc shows it) and the cookie.
  std::string Text() const;
};

/// The identity of the calling thread's network namespace.
bool CurrentNetns(NetnsIdentity* id, std::string* error);

/// NetnsIdentity::Key of /run/netns/NAME, or of the calling thread's
/// namespace when `name` is "" (for commands that find the state files
/// before entering the namespace).
bool StateKeyOf(const std::string& name, std::string* key, std::string* error);

/// This boot's id (/proc/sys/kernel/random/boot_id), "" when unreadable.
std::string BootId();

/// Probes each feature by creating a throwaway object of that kind in a fresh
/// network namespace (a thread that unshares its netns). Returns the
/// missing ones with the kernel's reason: {feature, reason}.
std::vector<std::pair<std::string, std::string>> MissingFeatures(const std::vector<std::string>& features);

}  // namespace netdsl::runtime
