// PowerShell quoting, literals and enumeration spellings.
#include "backends/powershell/ps_text.h"

#include <climits>
#include <cstdio>

#include "common/io/bidi.h"

namespace netdsl::backends::ps {

namespace {

/// `text` (no bidi control in it) as one single-quoted string.
void AppendSingleQuoted(std::string& out, std::string_view text) {
  out += '\'';
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'') {
      out += "''";
      continue;
    }
    // U+2018..U+201B are E2 80 98..9B in UTF-8.
    if (static_cast<unsigned char>(c) == 0xE2 && i + 2 < text.size() &&
        static_cast<unsigned char>(text[i + 1]) == 0x80) {
      unsigned char third = static_cast<unsigned char>(text[i + 2]);
      if (third >= 0x98 && third <= 0x9B) {
        out.append(text.substr(i, 3));
        out.append(text.substr(i, 3));
        i += 2;
        continue;
      }
    }
    out += c;
  }
  out += '\'';
}

}  // namespace

std::string Quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  size_t bidi = io::FindBidiControl(text);
  if (bidi == std::string_view::npos) {
    AppendSingleQuoted(out, text);
    return out;
  }
  // A bidi control never appears raw in the script: the string is built from
  // its pieces, each control as `[char]0xNNNN`.
  out += '(';
  size_t from = 0;
  for (; bidi != std::string_view::npos; bidi = io::FindBidiControl(text, from)) {
    AppendSingleQuoted(out, text.substr(from, bidi - from));
    char code[32];
    std::snprintf(code, sizeof code, " + [char]0x%04X + ", unsigned(io::BidiControlAt(text, bidi)));
    out += code;
    from = bidi + 3;
  }
  AppendSingleQuoted(out, text.substr(from));
  out += ')';
  return out;
}

std::string QuoteArray(const std::vector<std::string>& items) {
  std::string out = "@(";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += Quote(items[i]);
  }
  return out + ")";
}

std::string VariableArray(const std::vector<std::string>& variables) {
  std::string out = "@(";
  for (size_t i = 0; i < variables.size(); ++i) {
    if (i) out += ", ";
    out += variables[i];
  }
  return out + ")";
}

std::string Bool(bool value) { return value ? "$true" : "$false"; }

std::string CommentText(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (uint32_t bidi = io::BidiControlAt(text, i)) {
      char code[16];
      std::snprintf(code, sizeof code, "<U+%04X>", unsigned(bidi));
      out += code;
      i += 2;
    } else if (c < 0x20 || c == 0x7F) {
      out += '?';
    } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x85) {
      out += '?';
      i += 1;
    } else if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
                static_cast<unsigned char>(text[i + 2]) == 0xA9)) {
      out += '?';
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string EscapeWildcard(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '`') out += '`';
    out += c;
  }
  return out;
}

static std::string MacWith(const net::MacAddress& mac, const char* sep) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < mac.bytes.size(); ++i) {
    if (i) out += sep;
    std::snprintf(buf, sizeof buf, "%02X", mac.bytes[i]);
    out += buf;
  }
  return out;
}

std::string VmmMac(const net::MacAddress& mac) { return MacWith(mac, ":"); }
std::string HyperVMac(const net::MacAddress& mac) { return MacWith(mac, ""); }

std::string_view VmmTeamingMode(fabric::TeamingMode mode) {
  switch (mode) {
    case fabric::TeamingMode::SwitchIndependent: return "SwitchIndependent";
    case fabric::TeamingMode::Lacp: return "Lacp";
    case fabric::TeamingMode::Static: return "Static";
  }
  return "SwitchIndependent";
}

std::string_view VmmLoadBalancing(fabric::LoadBalancing lb) {
  switch (lb) {
    case fabric::LoadBalancing::HostDefault: return "HostDefault";
    case fabric::LoadBalancing::AddressHash: return "TransportPorts";
    case fabric::LoadBalancing::HyperVPort: return "HyperVPort";
    case fabric::LoadBalancing::Dynamic: return "Dynamic";
  }
  return "HostDefault";
}

std::string_view VmmUplinkMode(fabric::UplinkMode mode) {
  switch (mode) {
    case fabric::UplinkMode::NoTeam: return "NoTeam";
    case fabric::UplinkMode::Team: return "Team";
    case fabric::UplinkMode::EmbeddedTeam: return "EmbeddedTeam";
  }
  return "NoTeam";
}

std::string_view VmmBandwidthMode(fabric::MinimumBandwidthMode mode) {
  switch (mode) {
    case fabric::MinimumBandwidthMode::Weight: return "Weight";
    case fabric::MinimumBandwidthMode::Absolute: return "Absolute";
    case fabric::MinimumBandwidthMode::None: return "None";
  }
  return "Weight";
}

std::string_view VmmIsolationType(fabric::Isolation isolation) {
  switch (isolation) {
    case fabric::Isolation::None: return "NoIsolation";
    case fabric::Isolation::Vlan: return "VLANNetwork";
    case fabric::Isolation::Vxlan:
    case fabric::Isolation::Nvgre: return "WindowsNetworkVirtualization";
  }
  return "NoIsolation";
}

std::string_view LbfoTeamingMode(fabric::TeamingMode mode) { return VmmTeamingMode(mode); }

std::string_view LbfoLoadBalancing(fabric::LoadBalancing lb) {
  switch (lb) {
    case fabric::LoadBalancing::HostDefault: return "Dynamic";
    case fabric::LoadBalancing::AddressHash: return "TransportPorts";
    case fabric::LoadBalancing::HyperVPort: return "HyperVPort";
    case fabric::LoadBalancing::Dynamic: return "Dynamic";
  }
  return "Dynamic";
}

std::string_view HyperVBandwidthMode(fabric::MinimumBandwidthMode mode) { return VmmBandwidthMode(mode); }

int64_t ToVmmMbps(net::BitsPerSecond bps) {
  uint64_t mbps = bps / 1000000 + (bps % 1000000 ? 1 : 0);
  return mbps > static_cast<uint64_t>(INT32_MAX) ? INT32_MAX : static_cast<int64_t>(mbps);
}

}  // namespace netdsl::backends::ps
