// Edit distance and "did you mean" suggestions.
#include "compiler/diag/did_you_mean.h"

#include <algorithm>

namespace netdsl {

unsigned EditDistance(std::string_view a, std::string_view b, unsigned limit) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > limit) return limit + 1;
  std::vector<unsigned> row(a.size() + 1);
  for (size_t i = 0; i <= a.size(); ++i) row[i] = unsigned(i);
  for (size_t j = 1; j <= b.size(); ++j) {
    unsigned diag = row[0];
    row[0] = unsigned(j);
    unsigned best = row[0];
    for (size_t i = 1; i <= a.size(); ++i) {
      unsigned up = row[i];
      unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[i] = std::min({row[i] + 1, row[i - 1] + 1, diag + cost});
      diag = up;
      best = std::min(best, row[i]);
    }
    if (best > limit) return limit + 1;
  }
  return std::min(row[a.size()], limit + 1);
}

namespace {
bool EqualIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}
}  // namespace

std::optional<std::string> DidYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  unsigned limit = std::max<unsigned>(1, unsigned(word.size() / 3));
  std::optional<std::string_view> best;
  unsigned best_distance = limit + 1;
  for (std::string_view c : candidates) {
    if (c == word) continue;
    unsigned d = EqualIgnoringCase(c, word) ? 0 : EditDistance(word, c, limit);
    if (d < best_distance || (d == best_distance && best && c < *best)) {
      best = c;
      best_distance = d;
    }
  }
  if (!best || best_distance > limit) return std::nullopt;
  return std::string(*best);
}

std::optional<std::string> DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return DidYouMean(word, views);
}

std::string DidYouMeanSuffix(std::string_view word, const std::vector<std::string_view>& candidates) {
  auto s = DidYouMean(word, candidates);
  return s ? ", did you mean `" + *s + "`?" : std::string();
}

}  // namespace netdsl
