// PowerShell text helpers: quoting source text as single-quoted strings,
// typed literals, comment sanitizing, and VMM / Hyper-V enumeration spellings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/address.h"
#include "common/fabric/enums.h"

namespace netdsl::backends::ps {

/// `text` as a PowerShell single-quoted string: `'` and the typographic quotes
/// U+2018–U+201B (which PowerShell also reads as single quotes) are doubled;
/// every other character stands for itself, so nothing is ever interpolated.
/// Text with a Unicode bidi control (U+202A–U+202E, U+2066–U+2069) becomes an
/// expression, `('a' + [char]0x202E + 'b')`, so that no control reaches the
/// script raw (a reviewer would see the text reordered).
std::string Quote(std::string_view text);

/// `@('a', 'b')` with every element quoted; `@()` when empty.
std::string QuoteArray(const std::vector<std::string>& items);

/// `@($a, $b)` from variable names (already `$`-prefixed).
std::string VariableArray(const std::vector<std::string>& variables);

/// `$true` / `$false`.
std::string Bool(bool value);

/// `text` made safe for the rest of a `#` comment line: control characters and
/// Unicode line separators (U+0085, U+2028, U+2029) become `?`, bidi controls
/// their visible code (`<U+202E>`).
std::string CommentText(std::string_view text);

/// `text` with the wildcard metacharacters `*?[]` escaped with a backtick, for
/// parameters that take wildcard patterns (the backtick is literal inside the
/// single-quoted string, so the cmdlet sees the escape).
std::string EscapeWildcard(std::string_view text);

/// Uppercase colon form `00:1D:D8:B7:1C:00` (what VMM's MAC pools take).
std::string VmmMac(const net::MacAddress& mac);
/// Uppercase bare form `001DD8B71C00` (Hyper-V and NetWNV).
std::string HyperVMac(const net::MacAddress& mac);

/// VMM spellings (NetworkAdapterLBFOTeamMode, NetworkAdapterLBFOLoadBalancingAlgorithm,
/// SwitchUplinkMode, BandwidthMode, VMNetworkType).
std::string_view VmmTeamingMode(fabric::TeamingMode mode);
std::string_view VmmLoadBalancing(fabric::LoadBalancing lb);
std::string_view VmmUplinkMode(fabric::UplinkMode mode);
std::string_view VmmBandwidthMode(fabric::MinimumBandwidthMode mode);
std::string_view VmmIsolationType(fabric::Isolation isolation);

/// NetLbfo spellings (TeamingModes, LBAlgos). NetLbfo has no "host default":
/// it maps to `Dynamic`, the Windows Server 2012 R2+ default.
std::string_view LbfoTeamingMode(fabric::TeamingMode mode);
std::string_view LbfoLoadBalancing(fabric::LoadBalancing lb);

/// Hyper-V VMSwitchBandwidthMode.
std::string_view HyperVBandwidthMode(fabric::MinimumBandwidthMode mode);

/// Megabits per second for VMM port profiles (Int32 Mbps), rounded up so that
/// a nonzero bandwidth never becomes 0, saturating at INT32_MAX.
int64_t ToVmmMbps(net::BitsPerSecond bps);

}  // namespace netdsl::backends::ps
