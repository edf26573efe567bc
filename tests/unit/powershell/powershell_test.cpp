// PowerShell backend: quoting, enumeration spellings, script structure
// (dependency order, look-up-before-create, confirm-before-change), hostile names.
#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "backends/powershell/powershell_backend.h"
#include "backends/powershell/ps_text.h"
#include "fixtures.h"

using namespace netdsl;
using namespace netdsl::backends;

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

/// Length of the PowerShell single-quote character at `s[i]` (1 for `'`, 3 for
/// U+2018..U+201B), or 0.
size_t QuoteCharAt(std::string_view s, size_t i) {
  if (s[i] == '\'') return 1;
  if (i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80) {
    unsigned char c = static_cast<unsigned char>(s[i + 2]);
    if (c >= 0x98 && c <= 0x9B) return 3;
  }
  return 0;
}

/// A minimal PowerShell tokenizer for what the backend emits: single-quoted
/// strings (decoded as PowerShell does: any two quote characters in a row are
/// one literal quote), `#` line comments, and everything else ("code").
struct Lexed {
  std::string code;                  ///< text outside strings and comments
  std::vector<std::string> strings;  ///< decoded single-quoted strings
};

Lexed Lex(std::string_view script) {
  Lexed out;
  if (script.substr(0, kBom.size()) == kBom) script.remove_prefix(kBom.size());
  size_t i = 0;
  while (i < script.size()) {
    if (script[i] == '#') {
      while (i < script.size() && script[i] != '\n') ++i;
      continue;
    }
    if (size_t q = QuoteCharAt(script, i)) {
      i += q;
      std::string value;
      while (true) {
        if (i >= script.size()) FAIL("unterminated single-quoted string");
        size_t q1 = QuoteCharAt(script, i);
        if (!q1) {
          value += script[i++];
          continue;
        }
        size_t q2 = i + q1 < script.size() ? QuoteCharAt(script, i + q1) : 0;
        if (q2) {  // doubled: one literal quote (the second character)
          value.append(script.substr(i + q1, q2));
          i += q1 + q2;
          continue;
        }
        i += q1;
        break;
      }
      out.strings.push_back(value);
      out.code += "'S'";
      continue;
    }
    out.code += script[i++];
  }
  return out;
}

size_t Find(const std::string& text, std::string_view what) {
  size_t pos = text.find(what);
  INFO("looking for: " << what);
  REQUIRE(pos != std::string::npos);
  return pos;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b);
}

/// The cmdlet a line calls after `$x = ` (or at the start), or "".
std::string CalledCmdlet(const std::string& line) {
  std::string t = Trim(line);
  if (!t.empty() && t[0] == '$') {
    size_t eq = t.find(" = ");
    if (eq == std::string::npos) return "";
    t = t.substr(eq + 3);
  }
  size_t end = t.find(' ');
  std::string word = t.substr(0, end);
  return word.find('-') != std::string::npos && std::isupper(static_cast<unsigned char>(word[0])) ? word : "";
}

}  // namespace

TEST_CASE("quote doubles every PowerShell single-quote character") {
  CHECK(ps::Quote("") == "''");
  CHECK(ps::Quote("plain") == "'plain'");
  CHECK(ps::Quote("it's") == "'it''s'");
  CHECK(ps::Quote("''") == "''''''");
  CHECK(ps::Quote("\xE2\x80\x98") == "'\xE2\x80\x98\xE2\x80\x98'");
  CHECK(ps::Quote("\xE2\x80\x99") == "'\xE2\x80\x99\xE2\x80\x99'");
  CHECK(ps::Quote("\xE2\x80\x9A") == "'\xE2\x80\x9A\xE2\x80\x9A'");
  CHECK(ps::Quote("\xE2\x80\x9B") == "'\xE2\x80\x9B\xE2\x80\x9B'");
  // Neighbours of the quote range are ordinary characters (U+2017, U+201C ").
  CHECK(ps::Quote("\xE2\x80\x97") == "'\xE2\x80\x97'");
  CHECK(ps::Quote("\xE2\x80\x9C") == "'\xE2\x80\x9C'");
  // Everything else stands for itself inside single quotes.
  CHECK(ps::Quote("$(x) `n \"y\" ; # @'") == "'$(x) `n \"y\" ; # @'''");
  CHECK(ps::Quote("a\nb") == "'a\nb'");
  // A truncated UTF-8 sequence at the end is copied, not read past.
  CHECK(ps::Quote("\xE2\x80") == "'\xE2\x80'");
}

TEST_CASE("bidi controls never reach a script raw: strings become expressions, comments show the code") {
  // U+202E RIGHT-TO-LEFT OVERRIDE and U+2066 LEFT-TO-RIGHT ISOLATE (Trojan Source).
  CHECK(ps::Quote("a\xE2\x80\xAE" "b") == "('a' + [char]0x202E + 'b')");
  CHECK(ps::Quote("\xE2\x80\xAE" "x'\xE2\x81\xA6") == "('' + [char]0x202E + 'x''' + [char]0x2066 + '')");
  CHECK(ps::Quote("\xE2\x81\xA9\xE2\x80\xAA") == "('' + [char]0x2069 + '' + [char]0x202A + '')");
  // The quote characters next to a control are still doubled.
  CHECK(ps::Quote("\xE2\x80\x99\xE2\x80\xAE") == "('\xE2\x80\x99\xE2\x80\x99' + [char]0x202E + '')");
  CHECK(ps::CommentText("vm\xE2\x80\xAE" "evil\xE2\x81\xA7") == "vm<U+202E>evil<U+2067>");
  // A script for a host whose names carry controls: none raw, every one as [char].
  ir::HostIr host = testing::SeedDemoHost02();
  host.ports[0].vm = "win\xE2\x80\xAEserver";
  host.lookup_records[0].vm = host.ports[0].vm;
  host.switches[0].name = "sw\xE2\x81\xA6itch";
  host.ports[0].switch_name = host.switches[0].name;
  const std::string script = EmitHyperVScript(host);
  for (const char* control : {"\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x80\xAE",
                              "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9"})
    CHECK(script.find(control) == std::string::npos);
  Find(script, "$switchName = ('sw' + [char]0x2066 + 'itch')");
  Find(script, "Get-VMNetworkAdapter -VMName ('win' + [char]0x202E + 'server')");
  Find(script, "# win<U+202E>server/nic0 on host02");
}

TEST_CASE("quoted strings decode back to the original text") {
  for (const std::string& name : testing::HostileNames()) {
    Lexed lexed = Lex(ps::Quote(name));
    REQUIRE(lexed.strings.size() == 1);
    CHECK(lexed.strings[0] == name);
    CHECK(lexed.code == "'S'");
  }
}

TEST_CASE("arrays, booleans, comments, wildcards, MACs, bandwidth") {
  CHECK(ps::QuoteArray({}) == "@()");
  CHECK(ps::QuoteArray({"a", "b'c"}) == "@('a', 'b''c')");
  CHECK(ps::VariableArray({"$a", "$b"}) == "@($a, $b)");
  CHECK(ps::Bool(true) == "$true");
  CHECK(ps::Bool(false) == "$false");
  CHECK(ps::CommentText("a\nb\rc\td") == "a?b?c?d");
  CHECK(ps::CommentText("x\xE2\x80\xA8y\xE2\x80\xA9z\xC2\x85w") == "x?y?z?w");
  CHECK(ps::CommentText("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(ps::EscapeWildcard("a*b?c[1]`") == "a`*b`?c`[1`]``");
  net::MacAddress mac = *net::ParseMac("00:1d:d8:b7:1c:0a");
  CHECK(ps::VmmMac(mac) == "00:1D:D8:B7:1C:0A");
  CHECK(ps::HyperVMac(mac) == "001DD8B71C0A");
  CHECK(ps::ToVmmMbps(1000000000ull) == 1000);
  CHECK(ps::ToVmmMbps(1500000ull) == 2);
  CHECK(ps::ToVmmMbps(1) == 1);
  CHECK(ps::ToVmmMbps(0) == 0);
  CHECK(ps::ToVmmMbps(UINT64_MAX) == INT32_MAX);
}

TEST_CASE("enumerations use VMM and NetLbfo spellings") {
  using namespace model;
  CHECK(ps::VmmTeamingMode(TeamingMode::SwitchIndependent) == "SwitchIndependent");
  CHECK(ps::VmmTeamingMode(TeamingMode::Lacp) == "Lacp");
  CHECK(ps::VmmTeamingMode(TeamingMode::Static) == "Static");
  CHECK(ps::VmmLoadBalancing(LoadBalancing::HostDefault) == "HostDefault");
  CHECK(ps::VmmLoadBalancing(LoadBalancing::AddressHash) == "TransportPorts");
  CHECK(ps::VmmLoadBalancing(LoadBalancing::HyperVPort) == "HyperVPort");
  CHECK(ps::VmmLoadBalancing(LoadBalancing::Dynamic) == "Dynamic");
  CHECK(ps::VmmUplinkMode(UplinkMode::NoTeam) == "NoTeam");
  CHECK(ps::VmmUplinkMode(UplinkMode::Team) == "Team");
  CHECK(ps::VmmUplinkMode(UplinkMode::EmbeddedTeam) == "EmbeddedTeam");
  CHECK(ps::VmmBandwidthMode(MinimumBandwidthMode::Weight) == "Weight");
  CHECK(ps::VmmBandwidthMode(MinimumBandwidthMode::Absolute) == "Absolute");
  CHECK(ps::VmmBandwidthMode(MinimumBandwidthMode::None) == "None");
  CHECK(ps::VmmIsolationType(Isolation::None) == "NoIsolation");
  CHECK(ps::VmmIsolationType(Isolation::Vlan) == "VLANNetwork");
  CHECK(ps::VmmIsolationType(Isolation::Nvgre) == "WindowsNetworkVirtualization");
  CHECK(ps::LbfoLoadBalancing(LoadBalancing::HostDefault) == "Dynamic");
  CHECK(ps::LbfoLoadBalancing(LoadBalancing::AddressHash) == "TransportPorts");
}

TEST_CASE("fabric script: header, BOM, deterministic") {
  const alloc::AllocatedFabric af = testing::SeedDemoFabric();
  const std::string script = EmitFabricScript(af);
  CHECK(script.substr(0, 3) == kBom);
  CHECK(script == EmitFabricScript(af));
  Find(script, "[CmdletBinding(SupportsShouldProcess = $true)]");
  Find(script, "[switch]$DryRun,");
  Find(script, "[string]$VMMServer = 'localhost',");
  Find(script, "[string]$TranscriptPath = ''");
  Find(script, "Set-StrictMode -Version Latest\n$ErrorActionPreference = 'Stop'\n");
  Find(script, "Start-Transcript -Path $TranscriptPath -Append");
  Find(script, "Stop-Transcript");
  CHECK(script.find('\r') == std::string::npos);
}

TEST_CASE("fabric script: objects in dependency order") {
  const std::string script = EmitFabricScript(testing::SeedDemoFabric());
  const char* order[] = {
      "New-SCVMHostGroup -Name 'Lenovo'",
      "New-SCVMHostGroup -Name 'Gateways'",
      "New-SCLogicalNetwork -Name 'Virtual Switch'",
      "New-SCLogicalNetworkDefinition -Name 'shangdi'",
      "New-SCStaticIPAddressPool -Name 'test IP pool'",
      "New-SCLogicalNetwork -Name 'Tenant'",
      "New-SCMACAddressPool -Name 'default'",
      "New-SCPortClassification -Name 'Tenant'",
      "New-SCVirtualNetworkAdapterNativePortProfile -Name 'Tenant'",
      "New-SCNativeUplinkPortProfile -Name 'uplink port profile'",
      "New-SCLogicalSwitch -Name 'test logical switch'",
      "New-SCUplinkPortProfileSet -Name 'uplink port profile'",
      "New-SCVirtualNetworkAdapterPortProfileSet -Name 'Tenant'",
      "New-SCVMNetwork -Name 'tenant A'",
      "New-SCVMSubnet -Name 'web'",
      "New-SCStaticIPAddressPool -Name 'web_pool'",
      "Add-SCVMNetworkGateway -Name 'tenant A gateway'",
      "Add-SCNATConnection -Name 'tenant A NAT'",
      "Set-SCVMHostNetworkAdapter -VMHostNetworkAdapter $adapter -UplinkPortProfileSet $uset0_0",
      "New-SCVirtualNetwork -VMHost $vmHost -LogicalSwitch $ls0 -VMHostNetworkAdapters $deploy0",
      "New-SCVirtualNetwork -VMHost $vmHost -LogicalSwitch $ls1 -VMHostNetworkAdapters $deploy1",
  };
  size_t last = 0;
  for (const char* what : order) {
    size_t pos = Find(script, what);
    INFO(what);
    CHECK(pos > last);
    last = pos;
  }
}

TEST_CASE("fabric script: the seed demo's values as VMM spells them") {
  const std::string script = EmitFabricScript(testing::SeedDemoFabric());
  Find(script, "-SubnetVLan $subnetVlans -VMHostGroup $hostGroups");
  Find(script, "$hostGroups = @($hg0, $hg1)");
  Find(script, "(New-SCSubnetVLan -Subnet '192.168.10.0/24' -VLanID 0)");
  Find(script, "-Subnet '192.168.10.0/24' -Description '[netdsl]' -IPAddressRangeStart '192.168.10.40' -IPAddressRangeEnd '192.168.10.50' "
               "-DNSServer @('192.168.10.1')");
  Find(script, "New-SCLogicalNetwork -Name 'Tenant' -Description '[netdsl]' -EnableNetworkVirtualization $true -UseGRE $true");
  Find(script, "-MACAddressRangeStart '00:1D:D8:B7:1C:00' -MACAddressRangeEnd '00:1D:D8:F4:1F:FF' -VMHostGroup @($hg0, "
               "$hg1)");
  Find(script, "-EnableDhcpGuard $true -EnableRouterGuard $true");
  Find(script, "-EnableGuestIPNetworkVirtualizationUpdates $true");
  Find(script, "-MinimumBandwidthWeight 1 -MaximumBandwidth 1000");
  Find(script, "-LBFOTeamMode 'SwitchIndependent' -LBFOLoadBalancingAlgorithm 'HyperVPort'");
  Find(script, "New-SCNativeUplinkPortProfile -Name 'inbound' -Description '[netdsl]' -LogicalNetworkDefinition $definitions "
               "-EnableNetworkVirtualization $true -LBFOTeamMode "
               "'SwitchIndependent' -LBFOLoadBalancingAlgorithm 'HostDefault'");
  Find(script, "-EnableSriov $true -SwitchUplinkMode 'Team' -MinimumBandwidthMode 'Weight'");
  Find(script, "-EnableSriov $false -SwitchUplinkMode 'NoTeam'");
  Find(script, "-IsolationType 'WindowsNetworkVirtualization' -CAIPAddressPoolType 'IPV4' -PAIPAddressPoolType 'IPV4'");
  Find(script, "New-SCVMNetwork -Name 'Virtual Switch' -Description '[netdsl]' -LogicalNetwork $ln0 -IsolationType 'NoIsolation'");
  Find(script, "-VMSubnetID 5001");
  Find(script, "-VMSubnetID 6001");
  Find(script, "-ExternalIPPool $pool0 -ExternalIPAddress '192.168.10.40'");
  Find(script, "-RequiresNAT");
  // SR-IOV is creation-time only: an existing switch that differs stops the script.
  size_t sriov = Find(script, "if (Test-NdDiffers $ls0 'EnableSriov' $true) {");
  CHECK(script.find("throw ('the existing switch has SR-IOV off but the source asks for it on", sriov) < script.find("Set-SCLogicalSwitch", sriov));
}

TEST_CASE("fabric script: every object is looked up before it is created, and changes are confirmed") {
  const std::string script = EmitFabricScript(testing::SeedDemoFabric());
  const std::vector<std::string> lines = Lines(script);
  int creates = 0, updates = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string cmd = CalledCmdlet(lines[i]);
    if (cmd.empty() || cmd == "New-SCSubnetVLan") continue;
    const bool create = cmd.rfind("New-SC", 0) == 0 || cmd.rfind("Add-SC", 0) == 0;
    const bool update = cmd.rfind("Set-SC", 0) == 0;
    if (!create && !update) continue;
    INFO("line " << i + 1 << ": " << lines[i]);
    REQUIRE(i > 0);
    if (create) {
      ++creates;
      CHECK(lines[i - 1].find("Confirm-NdChange 'create'") != std::string::npos);
      // The same noun was looked up earlier with Get-.
      const std::string noun = cmd.substr(cmd.find('-') + 1);
      const std::string get = "Get-" + noun + " ";
      CHECK(script.rfind(get, script.find(lines[i])) != std::string::npos);
    } else {
      ++updates;
      CHECK(lines[i - 1].find("Confirm-NdChange 'update'") != std::string::npos);
    }
  }
  CHECK(creates >= 20);
  CHECK(updates >= 15);
}

TEST_CASE("hyper-v script: switch, team, adapter policy, NetWNV records and routes") {
  const ir::HostIr host = testing::SeedDemoHost02();
  const std::string script = EmitHyperVScript(host);
  CHECK(script.substr(0, 3) == kBom);
  CHECK(script == EmitHyperVScript(host));
  size_t team = Find(script, "New-NetLbfoTeam -Name $teamName -TeamMembers @('Ethernet') -TeamingMode "
                             "'SwitchIndependent' -LoadBalancingAlgorithm 'HyperVPort' -Confirm:$false");
  size_t sw = Find(script, "New-VMSwitch -Name $switchName -NetAdapterName @('test logical switch') -EnableIov $true "
                           "-MinimumBandwidthMode 'Weight'");
  CHECK(team < sw);
  Find(script, "if (Test-NdDiffers $switch 'IovEnabled' $true) {");
  size_t pa = Find(script, "New-NetVirtualizationProviderAddress -ProviderAddress '192.168.0.11' -InterfaceIndex "
                           "$interface.ifIndex -PrefixLength 24");
  CHECK(sw < pa);
  Find(script, "Set-VMNetworkAdapter -VMNetworkAdapter $adapter -MacAddressSpoofing 'Off' -DhcpGuard 'On' "
               "-RouterGuard 'On' -IeeePriorityTag 'Off' -AllowTeaming 'Off' -VmqWeight 100 -IovWeight 0 -VrssEnabled $false "
               "-IPsecOffloadMaximumSecurityAssociation 512 -VirtualSubnetId 5001 -MinimumBandwidthWeight 1 "
               "-MaximumBandwidth 1000000000");
  Find(script, "-StaticMacAddress '001DD8B71C00'");
  Find(script, "Set-VMNetworkAdapterVlan -VMNetworkAdapter $adapter -Untagged");
  // One converging helper call per NetWNV record; the helpers look up, compare and replace.
  Find(script, "function Sync-NdLookupRecord {");
  Find(script, "-Rule 'TranslationMethodEncap' -CustomerID $CustomerID -Context 'netdsl' -VMName $VMName");
  Find(script, "Remove-NetVirtualizationLookupRecord -InputObject $record");
  Find(script, "\n  Sync-NdLookupRecord -CustomerAddress '10.0.1.10' -VirtualSubnetID 5001 -MACAddress "
               "'001DD8B71C00' -ProviderAddress '192.168.0.11' -CustomerID "
               "'{6e64736c-0000-4000-8000-000000000001}' -VMName 'winserver10'  # winserver10/nic0 on host02\n");
  Find(script, "Sync-NdCustomerRoute -RoutingDomainID '{6e64736c-0000-4000-8000-000000000001}' "
               "-VirtualSubnetID 5001 -DestinationPrefix '10.0.1.0/24' -NextHop '0.0.0.0'");
  Find(script, "-VirtualSubnetID 5001 -DestinationPrefix '0.0.0.0/0' -NextHop '192.168.0.12'");
  // Remote records carry no VM name (the VM is not on this host).
  ir::HostIr remote = testing::SeedDemoHost02();
  remote.lookup_records[0].local = false;
  const std::string remote_script = EmitHyperVScript(remote);
  Find(remote_script, "-CustomerID '{6e64736c-0000-4000-8000-000000000001}'  # winserver10/nic0 on host02\n");
}

TEST_CASE("hyper-v script: owned NetWNV state is marked, and what the source no longer has is removed") {
  const std::string script = EmitHyperVScript(testing::SeedDemoHost02());
  // Records netdsl creates carry its mark; routes are owned through netdsl's routing domain GUIDs.
  Find(script, "-Rule 'TranslationMethodEncap' -CustomerID $CustomerID -Context 'netdsl' -VMName $VMName");
  Find(script, "-Rule 'TranslationMethodEncap' -CustomerID $CustomerID -Context 'netdsl' | Out-Null");
  Find(script, "Where-Object { [string](Get-NdValue $_ 'Context') -eq 'netdsl' }");
  Find(script, "-match '^\\{?6e64736c-0000-4000-8000-[0-9a-f]{12}\\}?$'");
  // A record another tool made is never replaced or removed.
  size_t foreign = Find(script, "if ([string](Get-NdValue $record 'Context') -ne 'netdsl') {");
  CHECK(script.find("throw ('another tool created this record", foreign) < script.find("$action = 'replace'", foreign));
  // The removals run once, after the last Sync call of the script body.
  const size_t records = Find(script, "\n  Remove-NdStaleLookupRecords\n");
  const size_t routes = Find(script, "\n  Remove-NdStaleCustomerRoutes\n");
  CHECK(script.rfind("\n  Sync-Nd") < records);
  CHECK(records < routes);
  // A host with nothing left on a virtual subnet still removes what it had.
  ir::HostIr empty = testing::SeedDemoHost02();
  empty.ports.clear();
  empty.lookup_records.clear();
  empty.customer_routes.clear();
  empty.segments.clear();
  const std::string bare = EmitHyperVScript(empty);
  CHECK(bare.find("\n  Sync-NdLookupRecord ") == std::string::npos);
  Find(bare, "\n  Remove-NdStaleLookupRecords\n");
  Find(bare, "\n  Remove-NdStaleCustomerRoutes\n");
}

TEST_CASE("hyper-v script: embedded teaming and a no-team switch with two NICs") {
  ir::HostIr gw = testing::SeedDemoGateway();
  std::string script = EmitHyperVScript(gw);
  Find(script, "New-VMSwitch -Name $switchName -NetAdapterName @('inside') -EnableIov $false");
  Find(script, "network adapter ''{1}'' is not attached to it");
  Find(script, "New-NetVirtualizationProviderRoute -InterfaceIndex $interface.ifIndex -DestinationPrefix '0.0.0.0/0' "
               "-NextHop '192.168.0.1'");
  CHECK(script.find("New-NetLbfoTeam") == std::string::npos);

  gw.switches[0].uplink_mode = model::UplinkMode::EmbeddedTeam;
  gw.switches[0].teaming = model::UplinkPortProfile::Teaming{model::TeamingMode::SwitchIndependent,
                                                              model::LoadBalancing::Dynamic};
  script = EmitHyperVScript(gw);
  Find(script, "-NetAdapterName @('inside', 'outside') -EnableIov $false -MinimumBandwidthMode 'Weight' "
               "-EnableEmbeddedTeaming $true");
  Find(script, "Set-VMSwitchTeam -VMSwitch $switch -LoadBalancingAlgorithm 'Dynamic'");

  gw.switches[0].teaming->mode = model::TeamingMode::Lacp;
  script = EmitHyperVScript(gw);
  Find(script, "throw 'switch embedded teaming supports only switch independent teaming");
  CHECK(script.find("New-VMSwitch") == std::string::npos);
}

TEST_CASE("fabric script: nested groups, VLAN isolation, reserved/VIPs, absolute bandwidth, LACP") {
  const std::string script = EmitFabricScript(testing::VariantFabric());
  // A nested group is looked up and created under its parent, after it.
  size_t parent = Find(script, "$hg0 = New-SCVMHostGroup -Name 'Lenovo'");
  size_t child = Find(script, "$hg2 = New-SCVMHostGroup -Name 'Rack 1' -Description 'rack one' -ParentHostGroup $hg0");
  CHECK(parent < child);
  Find(script, "Get-SCVMHostGroup -ParentHostGroup $hg0 -Name 'Rack 1'");
  // VLAN-isolated VM networks need isolated definitions and a site per VLAN.
  Find(script, "New-SCLogicalNetwork -Name 'Datacenter' -Description 'datacenter LN [netdsl]' -EnableNetworkVirtualization $false -UseGRE $false "
               "-LogicalNetworkDefinitionIsolation $true");
  Find(script, "@((New-SCSubnetVLan -Subnet '10.10.0.0/24' -VLanID 10), (New-SCSubnetVLan -Subnet '10.10.1.0/24' "
               "-VLanID 11))");
  Find(script, "Test-NdSubnetVlansDiffer $site2 'SubnetVLans' @('10.10.0.0/24@10', '10.10.1.0/24@11')");
  Find(script, "New-SCVMNetwork -Name 'vlan net' -Description 'vlan tenants [netdsl]' -LogicalNetwork $ln2 -IsolationType 'VLANNetwork'");
  Find(script, "$subnetVlans = @(New-SCSubnetVLan -Subnet '10.10.1.0/24' -VLanID 11)");
  Find(script, "New-SCVMSubnet -Name 'v11' -Description 'vlan 11 [netdsl]' -VMNetwork $vmn2 -SubnetVLan $subnetVlans -LogicalNetworkDefinition $site2");
  Find(script, "-IPAddressReservedSet '10.10.0.11,10.10.0.12' -VIPAddressSet '10.10.0.90'");
  Find(script, "(Test-NdDiffers $pool3 'IPAddressReservedSet' '10.10.0.11,10.10.0.12')");
  // Bandwidth in Mbps, rounded up; descriptions are set and compared.
  Find(script, "-Description 'absolute [netdsl]' -AllowMacAddressSpoofing $false");
  Find(script, "-MinimumBandwidthAbsolute 100 -MaximumBandwidth 2");
  CHECK(script.find("-MinimumBandwidthWeight") == std::string::npos);
  Find(script, "-Description 'lacp uplinks [netdsl]' -LogicalNetworkDefinition $definitions -EnableNetworkVirtualization $true "
               "-LBFOTeamMode 'Lacp' "
               "-LBFOLoadBalancingAlgorithm 'TransportPorts'");
  Find(script, "$definitions = @(@($site0, $site1, $site2) | Where-Object { $null -ne $_ })");
  Find(script, "New-SCLogicalSwitch -Name 'test logical switch' -Description 'embedded [netdsl]' -EnableSriov $true "
               "-SwitchUplinkMode 'EmbeddedTeam' -MinimumBandwidthMode 'Absolute'");
  Find(script, "(Test-NdDiffers $ls0 'Description' (Get-NdDescription $ls0 'embedded'))");
}

TEST_CASE("fabric script: descriptions, uplink network virtualization, guest teaming, vRSS, extensions, gateways") {
  const std::string script = EmitFabricScript(testing::VariantFabric());
  // Every object whose cmdlet takes -Description gets it when created and is updated when it differs.
  Find(script, "$hg2 = New-SCVMHostGroup -Name 'Rack 1' -Description 'rack one' -ParentHostGroup $hg0");
  Find(script, "Set-SCVMHostGroup -VMHostGroup $hg2 -Description 'rack one'");
  Find(script, "New-SCLogicalNetwork -Name 'Datacenter' -Description 'datacenter LN [netdsl]' -EnableNetworkVirtualization");
  Find(script, "(Test-NdDiffers $ln2 'Description' (Get-NdDescription $ln2 'datacenter LN'))");
  Find(script, "# description (not kept by VMM): no VMM property");
  Find(script, "New-SCStaticIPAddressPool -Name 'dc pool' -LogicalNetworkDefinition $site2 -Subnet '10.10.0.0/24' "
               "-Description 'dc addresses [netdsl]' -IPAddressRangeStart");
  Find(script, "(Test-NdDiffers $pool3 'Description' (Get-NdDescription $pool3 'dc addresses'))");
  Find(script, "New-SCMACAddressPool -Name 'default' -Description 'all MACs [netdsl]' -MACAddressRangeStart");
  Find(script, "New-SCVMNetwork -Name 'vlan net' -Description 'vlan tenants [netdsl]' -LogicalNetwork $ln2");
  Find(script, "Set-SCVMNetwork -VMNetwork $vmn2 -Description (Get-NdDescription $vmn2 'vlan tenants')");
  Find(script, "New-SCVMSubnet -Name 'v11' -Description 'vlan 11 [netdsl]' -VMNetwork $vmn2");
  Find(script, "Set-SCVMSubnet -VMSubnet $vms2 -Description (Get-NdDescription $vms2 'vlan 11')");
  Find(script, "New-SCVirtualNetworkAdapterPortProfileSet -Name 'Tenant' -Description 'tenant port [netdsl]' -LogicalSwitch $ls0");
  Find(script, "Set-SCVMHost -VMHost $vmHost -Description 'second host'");
  Find(script, "Set-SCVMHostNetworkAdapter -VMHostNetworkAdapter $adapter -Description 'first cable'");
  // No description in the source: none is set, so VMM keeps its own.
  CHECK(script.find("New-SCVMHostGroup -Name 'Lenovo' -Description") == std::string::npos);
  CHECK(script.find("Set-SCVMHostGroup -VMHostGroup $hg0") == std::string::npos);
  // Uplink profiles: network virtualization as written, else from the logical networks they carry.
  Find(script, "New-SCNativeUplinkPortProfile -Name 'inbound' -Description '[netdsl]' -LogicalNetworkDefinition $definitions "
               "-EnableNetworkVirtualization $false");
  Find(script, "(Test-NdDiffers $upp1 'EnableNetworkVirtualization' $false)");
  Find(script, "New-SCNativeUplinkPortProfile -Name 'outbound' -Description '[netdsl]' -LogicalNetworkDefinition $definitions "
               "-EnableNetworkVirtualization $false");
  // Guest teaming and vRSS on the port profile, set and compared.
  Find(script, "-EnableIov $false -AllowTeaming $true -EnableVrss $true -MinimumBandwidthAbsolute 100");
  Find(script, "(Test-NdDiffers $pp0 'AllowTeaming' $true) -or (Test-NdDiffers $pp0 'EnableVrss' $true)");
  // Switch extensions: VMM cannot be told (no Get-SCVirtualSwitchExtension in the schema), so it is reported.
  Find(script, "$missing = @(@('Microsoft Windows Filtering Platform') | Where-Object { $extensions -notcontains $_ })");
  Find(script, "switch extension(s) {1} are not on the switch in VMM");
  // Pool default gateways through New-SCDefaultGateway, compared by address.
  const std::string seed = EmitFabricScript(testing::SeedDemoFabric());
  size_t gw = Find(seed, "$defaultGateways = @((New-SCDefaultGateway -IPAddress '192.168.10.1' -Automatic))");
  size_t pool = Find(seed, "-DNSServer @('192.168.10.1') -DefaultGateway $defaultGateways\n");
  CHECK(gw < pool);
  Find(seed, "-or (Test-NdGatewaysDiffer $pool0 @('192.168.10.1'))) {");
  Find(seed, "Set-SCStaticIPAddressPool -StaticIPAddressPool $pool0 -IPAddressRangeStart '192.168.10.40' "
             "-IPAddressRangeEnd '192.168.10.50' -DNSServer @('192.168.10.1') -DefaultGateway $defaultGateways");
  CHECK(seed.find("default gateway {1} is not set") == std::string::npos);
  // A pool without a gateway has none.
  // (Its reserved set holds the PAs netdsl gave the Hyper-V hosts, so VMM hands none of them out.)
  CHECK(seed.find("-Name 'PA pool' -LogicalNetworkDefinition $site1 -Subnet '192.168.0.0/24' -Description '[netdsl]' -IPAddressRangeStart "
                  "'192.168.0.10' -IPAddressRangeEnd '192.168.0.250' -IPAddressReservedSet '") != std::string::npos);
}

TEST_CASE("hyper-v script: guest teaming, vRSS and switch extensions") {
  const std::string script = EmitHyperVScript(testing::VariantHost());
  Find(script, "-IeeePriorityTag 'Off' -AllowTeaming 'On' -VmqWeight 100 -IovWeight 100 -VrssEnabled $true ");
  Find(script, "(Test-NdDiffers $adapter 'AllowTeaming' 'On')");
  Find(script, "(Test-NdDiffers $adapter 'VrssEnabled' $true)");
  Find(script, "$extension = Select-NdOne (Get-VMSwitchExtension -VMSwitch $switch | Where-Object { $_.Name -eq "
               "'Microsoft Windows Filtering Platform' }) 'switch extension' 'Microsoft Windows Filtering Platform'");
  Find(script, "Enable-VMSwitchExtension -VMSwitchExtension $extension | Out-Null");
  CHECK(EmitHyperVScript(testing::SeedDemoHost02()).find("Enable-VMSwitchExtension") == std::string::npos);
}

TEST_CASE("fabric script: only Hyper-V hosts are bound and deployed through VMM") {
  alloc::AllocatedFabric af = testing::SeedDemoFabric();
  af.fabric.hosts[0].platform = model::Platform::Linux;  // host01 runs Linux: linux.yaml, not VMM
  const std::string script = EmitFabricScript(af);
  CHECK(script.find("Get-SCVMHost -ComputerName 'host01'") == std::string::npos);
  Find(script, "Get-SCVMHost -ComputerName 'host02'");
  Find(script, "Get-SCVMHost -ComputerName 'gateway'");
}

TEST_CASE("hyper-v script: the management adapter on the switch that carries it") {
  const std::string script = EmitHyperVScript(testing::HostileHost());
  const std::string sw = ps::Quote(testing::HostileNames()[0]);
  // The switch shares its uplink with the management OS, created so or set later.
  const size_t create = Find(script, "-MinimumBandwidthMode 'Weight' -AllowManagementOS $true\n");
  const size_t allow = Find(script, "Set-VMSwitch -VMSwitch $switch -AllowManagementOS $true\n");
  // Its host vNIC: found by exact name on that switch, then VLAN, address, default route.
  const size_t block = Find(script, "$managementName = " + sw + "\n");
  Find(script, "Get-VMNetworkAdapter -ManagementOS | Where-Object { $_.SwitchName -eq $managementName -and $_.Name -eq "
               "$managementName })");
  const size_t vlan = Find(script, "Set-VMNetworkAdapterVlan -VMNetworkAdapter $management -Access -VlanId 12\n");
  Find(script, "Get-NetAdapter -Name " + ps::Quote(ps::EscapeWildcard("vEthernet (" + testing::HostileNames()[0] + ")")));
  Find(script, "Get-NetIPAddress -InterfaceIndex $interface.ifIndex -AddressFamily 'IPv4'");
  const size_t address =
      Find(script, "New-NetIPAddress -InterfaceIndex $interface.ifIndex -IPAddress '192.168.0.20' -PrefixLength 24 |");
  const size_t route = Find(script, "New-NetRoute -InterfaceIndex $interface.ifIndex -DestinationPrefix '0.0.0.0/0' "
                                    "-NextHop '192.168.0.1' |");
  CHECK(create < allow);
  CHECK(allow < block);
  CHECK(block < vlan);
  CHECK(vlan < address);
  CHECK(address < route);
  CHECK(route < script.find("New-NetVirtualizationProviderAddress"));
  // Nothing the host has is taken away: other addresses are reported, never removed.
  CHECK(script.find("Remove-NetIPAddress") == std::string::npos);
  CHECK(script.find("Remove-NetRoute") == std::string::npos);
  Find(script, "also has address {1}, which the source does not declare");

  // IPv6, untagged.
  const std::string v6 = EmitHyperVScript(testing::VariantHost());
  Find(v6, "Set-VMNetworkAdapterVlan -VMNetworkAdapter $management -Untagged\n");
  Find(v6, "-AddressFamily 'IPv6'");
  Find(v6, "-IPAddress '2001:db8::20' -PrefixLength 64 |");
  Find(v6, "-DestinationPrefix '::/0' -NextHop '2001:db8::1' |");

  // Inherited settings: only the VLAN is set; Windows moves the NIC's address onto the vNIC.
  ir::HostIr inherit = testing::HostileHost();
  inherit.management->inherit = true;
  inherit.management->address.reset();
  inherit.management->gateway.reset();
  const std::string inherited = EmitHyperVScript(inherit);
  Find(inherited, "-AllowManagementOS $true\n");
  Find(inherited, "Set-VMNetworkAdapterVlan -VMNetworkAdapter $management -Access -VlanId 12\n");
  CHECK(inherited.find("New-NetIPAddress") == std::string::npos);
  CHECK(inherited.find("New-NetRoute") == std::string::npos);

  // A second switch of a host with management elsewhere: no host vNIC, and an
  // existing one is reported, not removed.
  ir::HostIr two = testing::HostileHost();
  ir::Switch storage = two.switches[0];
  storage.name = "storage";
  storage.uplink_mode = ir::UplinkMode::NoTeam;
  storage.uplinks[0].nic = "Ethernet 2";
  two.switches.push_back(storage);
  const std::string both = EmitHyperVScript(two);
  const size_t second = Find(both, "$switchName = 'storage'");
  Find(both.substr(second), "-NetAdapterName @('Ethernet 2') -EnableIov $true -MinimumBandwidthMode 'Weight' "
                            "-AllowManagementOS $false\n");
  Find(both.substr(second), "the source puts the management adapter on switch ''{1}''");
  CHECK(both.find("Set-VMSwitch -VMSwitch $switch -AllowManagementOS $false") == std::string::npos);

  // A host that declares no management keeps Windows' default.
  CHECK(EmitHyperVScript(testing::SeedDemoHost02()).find("AllowManagementOS") == std::string::npos);
}

TEST_CASE("fabric script: VMM creates the management adapter when it deploys the switch") {
  const std::string script = EmitFabricScript(testing::HostileFabric());
  const std::string sw = ps::Quote(testing::HostileFabric().fabric.logical_switches[0].name);
  const size_t deploy = Find(script, "-VMHostNetworkAdapters $deploy0 -CreateManagementAdapter -ManagementAdapterName " +
                                         sw + " -ManagementAdapterVLanId 12 | Out-Null\n");
  // Only host02 declares one: one management adapter in the whole script.
  CHECK(script.find("-CreateManagementAdapter", script.find("-CreateManagementAdapter", deploy) + 1) == std::string::npos);
  CHECK(script.rfind("Get-SCVMHost -ComputerName", deploy) > script.find("Get-SCVMHost -ComputerName"));
  Find(script, "VMM creates one only when it deploys the switch");
  CHECK(EmitFabricScript(testing::SeedDemoFabric()).find("-CreateManagementAdapter") == std::string::npos);
}

TEST_CASE("fabric script: a host NIC on an uplink its switch does not list stops instead of using an unset set") {
  alloc::AllocatedFabric af = testing::SeedDemoFabric();
  af.fabric.hosts[0].nics[0].uplink_profile = 1;  // `inbound` is not an uplink of `test logical switch`
  const std::string script = EmitFabricScript(af);
  Find(script, "throw ('network adapter ''{0}'' uses uplink port profile ''{1}'', which its logical switch does not "
               "list' -f 'Ethernet', 'inbound')");
  CHECK(script.find("$uset0_1") == std::string::npos);
}

TEST_CASE("hyper-v script: VLAN port, absolute bandwidth, IPv6 provider address") {
  const std::string script = EmitHyperVScript(testing::VariantHost());
  Find(script, "-EnableIov $true -MinimumBandwidthMode 'Absolute'");
  Find(script, "if (Test-NdDiffers $switch 'BandwidthReservationMode' 'Absolute') {");
  Find(script, "New-NetVirtualizationProviderAddress -ProviderAddress '2001:db8::11' -InterfaceIndex "
               "$interface.ifIndex -PrefixLength 64 -VlanID 20");
  Find(script, "-DestinationPrefix '::/0' -NextHop '2001:db8::1'");
  Find(script, "-MacAddressSpoofing 'On'");
  Find(script, "-IovWeight 100");
  Find(script, "-MinimumBandwidthAbsolute 100000000 -MaximumBandwidth 1000000000");
  Find(script, "(Test-NdDiffers $vlan 'OperationMode' 'Access') -or (Test-NdDiffers $vlan 'AccessVlanId' 11)");
  Find(script, "Set-VMNetworkAdapterVlan -VMNetworkAdapter $adapter -Access -VlanId 11");
}

TEST_CASE("hostile names stay inside single-quoted strings") {
  const std::vector<std::string> names = testing::HostileNames();
  const alloc::AllocatedFabric af = testing::HostileFabric();
  for (const std::string& script : {EmitFabricScript(af), EmitHyperVScript(testing::HostileHost())}) {
    Lexed lexed = Lex(script);
    // Outside strings and comments: no expandable string, no here-string, and
    // none of the payloads the names carry.
    CHECK(lexed.code.find('"') == std::string::npos);
    CHECK(lexed.code.find("@'") == std::string::npos);
    CHECK(lexed.code.find("Invoke-Evil") == std::string::npos);
    CHECK(lexed.code.find("Remove-Item") == std::string::npos);
    CHECK(lexed.code.find("$env") == std::string::npos);
    CHECK(lexed.code.find('`') == std::string::npos);
    CHECK(lexed.code.find("\xE2\x80") == std::string::npos);
    // Each comment line stays one line: no name breaks out of a comment.
    for (const std::string& line : Lines(script)) {
      const std::string t = Trim(line);
      if (t.rfind("# ", 0) == 0) CHECK(t.find("\xE2\x80\xA8") == std::string::npos);
    }
  }
  // Every hostile object name reaches the script intact, as one string.
  Lexed fabric = Lex(EmitFabricScript(af));
  std::set<std::string> strings(fabric.strings.begin(), fabric.strings.end());
  for (const model::LogicalNetwork& ln : af.fabric.logical_networks) CHECK(strings.count(ln.name) == 1);
  for (const model::VmNetwork& n : af.fabric.vm_networks) CHECK(strings.count(n.name) == 1);
  for (const model::LogicalSwitch& s : af.fabric.logical_switches) CHECK(strings.count(s.name) == 1);
  for (const model::IpPool& p : af.fabric.ip_pools) CHECK(strings.count(p.name) == 1);
  for (const model::Host& h : af.fabric.hosts) CHECK(strings.count(h.name) == 1);
  CHECK(strings.count(af.fabric.port_classifications[0].description) == 1);
  Lexed host = Lex(EmitHyperVScript(testing::HostileHost()));
  std::set<std::string> host_strings(host.strings.begin(), host.strings.end());
  CHECK(host_strings.count(names[0]) == 1);                   // switch
  CHECK(host_strings.count(names[4]) == 1);                   // VM
  CHECK(host_strings.count(names[5]) == 1);                   // NIC with a newline
  CHECK(host_strings.count(ps::EscapeWildcard(names[4])) == 1);  // VM as a -VMName pattern
}

TEST_CASE("fabric script: every VMM object netdsl creates carries its mark and is declared, so -Prune can tell") {
  for (const alloc::AllocatedFabric& fabric : {testing::SeedDemoFabric(), testing::VariantFabric()}) {
    const std::string script = EmitFabricScript(fabric);
    int marked = 0;
    for (const std::string& line : Lines(script)) {
      const std::string cmd = CalledCmdlet(line);
      if (cmd.rfind("New-SC", 0) != 0 && cmd.rfind("Add-SC", 0) != 0) continue;
      // Host groups (hosts live in them), definitions (no -Description), the
      // value objects and a host's virtual switch are never pruned: no mark.
      if (cmd == "New-SCVMHostGroup" || cmd == "New-SCLogicalNetworkDefinition" || cmd == "New-SCSubnetVLan" ||
          cmd == "New-SCDefaultGateway" || cmd == "New-SCVirtualNetwork")
        continue;
      INFO(line);
      CHECK((line.find(" [netdsl]'") != std::string::npos || line.find(" -Description '[netdsl]'") != std::string::npos));
      ++marked;
    }
    CHECK(marked >= 12);
    // The prune pass runs after everything is converged, and only removes through Remove-NdStale.
    size_t last_create = script.rfind("Confirm-NdChange 'create'");
    size_t prune = Find(script, "foreach ($vmn in @(Get-SCVMNetwork)) {");
    CHECK(last_create < prune);
    for (const std::string& line : Lines(script))
      if (line.find("Remove-SC") != std::string::npos) {
        INFO(line);
        CHECK((line.find("Remove-NdStale '") != std::string::npos || line.find("Remove-SCLogicalNetworkDefinition") != std::string::npos ||
               line.find("Remove-SCLogicalNetwork -LogicalNetwork $x") != std::string::npos));
      }
  }
}

TEST_CASE("fabric script: VM NICs on Hyper-V hosts are connected through VMM with netdsl's MAC and CA") {
  const alloc::AllocatedFabric fabric = testing::SeedDemoFabric();
  const std::string script = EmitFabricScript(fabric);
  size_t found = Find(script, "$adapter = Find-NdVMAdapter 'winserver10' '00:1D:D8:B7:1C:00'");
  size_t addressing = Find(script, "$addressing = @{ IPv4AddressType = 'Static'; IPv4Addresses = @('10.0.1.10') }");
  size_t set = Find(script, "Set-SCVirtualNetworkAdapter -VirtualNetworkAdapter $adapter -VMNetwork $vmn1 -VMSubnet $vms0 "
                            "-PortClassification $pc0 -MACAddressType 'Static' -MACAddress '00:1D:D8:B7:1C:00' @addressing");
  CHECK(found < addressing);
  CHECK(addressing < set);
  // Connected after the VM network, subnet and classification exist, before the prune pass.
  CHECK(Find(script, "New-SCVMSubnet -Name 'web'") < found);
  CHECK(set < Find(script, "foreach ($vmn in @(Get-SCVMNetwork)) {"));
  // The PA pool reserves every PA netdsl allocated to a Hyper-V host.
  for (const alloc::ProviderAddress& pa : fabric.allocation.provider_addresses) {
    INFO(pa.ip.ToString());
    const size_t at = Find(script, "-IPAddressReservedSet '");
    CHECK(script.substr(at, script.find('\'', at + 24) - at).find(pa.ip.ToString()) != std::string::npos);
  }
}
