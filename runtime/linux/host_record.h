// Which fabric host this machine (this network namespace) is: the `host:` of
// the last plan applied here, in `<state dir>/<namespace key>.host`. plan and
// apply refuse a plan for another host unless `--host-override NAME` names
// it (issue 10, defect 2: hv2's plan applied on hv1 moved a blue VM's port
// into red). docs/runtime.md, "Which host".
#pragma once

#include <string>

namespace netdsl::runtime {

/// The recorded host name ("" = none recorded yet). False, with `error`
/// naming the file and the way out, when the file is not netdsl's own
/// regular file (symlink, other owner, writable by others) or unreadable.
bool LoadHostRecord(const std::string& path, std::string* host, std::string* error);

/// Records `host` (atomically: temp file, fsync, rename; never through a symlink).
bool SaveHostRecord(const std::string& path, const std::string& host, std::string* error);

/// Why a plan for `plan_host` must not be applied where `recorded` was
/// (`override_host` = `--host-override`), or "" when it may.
std::string WrongHostProblem(const std::string& recorded, const std::string& plan_host,
                             const std::string& override_host, const std::string& record_path);

}  // namespace netdsl::runtime
