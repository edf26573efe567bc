// ParseDuration / FormatDuration (duration.h).
#include "runtime/linux/duration.h"

#include <cstdint>

#include <fmt/format.h>

namespace netdsl::runtime {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string* error) {
  if (text.empty()) {
    *error = "empty duration; write e.g. `90s` or `5m`";
    return std::nullopt;
  }
  struct Unit {
    std::string_view name;
    uint64_t ms;
  };
  static constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  uint64_t total = 0;
  size_t i = 0;
  uint64_t last_unit = UINT64_MAX;  // units must go from large to small, each once
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      *error = fmt::format("`{}` is not a duration: expected a number at `{}`", text, text.substr(i));
      return std::nullopt;
    }
    uint64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + static_cast<uint64_t>(text[i++] - '0');
      if (n > 1'000'000'000) {
        *error = fmt::format("`{}` is too long a duration", text);
        return std::nullopt;
      }
    }
    size_t start = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    std::string_view unit = text.substr(start, i - start);
    if (unit.empty()) {
      if (start != text.size() || total != 0) {
        *error = fmt::format("`{}` is not a duration: a number without a unit must stand alone", text);
        return std::nullopt;
      }
      unit = "s";
    }
    const Unit* u = nullptr;
    for (const Unit& k : kUnits)
      if (k.name == unit) u = &k;
    if (!u) {
      *error = fmt::format("`{}` is not a duration: unknown unit `{}` (use ms, s, m, h or d)", text, unit);
      return std::nullopt;
    }
    if (u->ms >= last_unit) {
      *error = fmt::format("`{}` is not a duration: give each unit once, largest first (`1m30s`)", text);
      return std::nullopt;
    }
    last_unit = u->ms;
    total += n * u->ms;
    if (total > 7ull * 86'400'000) {
      *error = fmt::format("`{}` is longer than the 7 days a duration may be", text);
      return std::nullopt;
    }
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  uint64_t ms = static_cast<uint64_t>(d.count() < 0 ? 0 : d.count());
  if (ms == 0) return "0s";
  std::string s;
  for (auto [unit, size] : {std::pair{"d", 86'400'000ull}, {"h", 3'600'000ull}, {"m", 60'000ull}, {"s", 1000ull}}) {
    if (ms >= size) {
      s += fmt::format("{}{}", ms / size, unit);
      ms %= size;
    }
  }
  if (ms) s += fmt::format("{}ms", ms);
  return s;
}

}  // namespace netdsl::runtime
