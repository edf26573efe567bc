// "Did you mean" suggestions by edit distance, for misspelled names, keys and units.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netdsl {

/// Levenshtein distance (insert, delete, substitute each cost 1). Stops early
/// and returns `limit + 1` once the distance is known to exceed `limit`.
unsigned EditDistance(std::string_view a, std::string_view b, unsigned limit = ~0u - 1);

/// The candidate closest to `word`, if it is close enough to be a likely typo:
/// distance at most max(1, word.size() / 3), or equal ignoring ASCII case.
/// Ties go to the candidate that sorts first, so the answer is deterministic.
std::optional<std::string> DidYouMean(std::string_view word, const std::vector<std::string_view>& candidates);
std::optional<std::string> DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

/// ", did you mean `x`?" or "" — for appending to a message.
std::string DidYouMeanSuffix(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace netdsl
