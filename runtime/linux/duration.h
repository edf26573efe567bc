// Durations on the command line (`--confirm-within 5m`): `500ms`, `30s`,
// `5m`, `1h`, combined (`1m30s`); a bare number is seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace netdsl::runtime {

/// Parses a duration; nullopt (with `error` saying why) when it is malformed.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string* error);

/// `1m30s`, `2h`, `500ms`: the shortest exact text ParseDuration reads back.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace netdsl::runtime
