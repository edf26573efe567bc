// EmitHyperVScript: one host's IR → `hosts/NAME/hyperv.ps1` (Hyper-V switches
// and VM adapters, NetLbfo teams, NetVirtualization PAs, lookup records, routes).
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "backends/powershell/powershell_backend.h"
#include "backends/powershell/ps_text.h"
#include "backends/powershell/script_writer.h"

namespace netdsl::backends {
namespace {

using ps::Bool;
using ps::EscapeWildcard;
using ps::Quote;
using ps::QuoteArray;

std::string Int(int64_t v) { return std::to_string(v); }
std::string OnOff(bool on) { return on ? "'On'" : "'Off'"; }

/// NetWNV names routing domains by GUID; netdsl's RDID is a number. The GUID
/// is fixed text `6e64736c` ("ndsl") and the RDID in the last 12 hex digits.
std::string RoutingDomainGuid(uint32_t rdid) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "{6e64736c-0000-4000-8000-%012x}", rdid);
  return buf;
}

// NetWNV records are many per host (one per CA on the host's VSIDs), so each
// is one call of a helper that converges it; the helpers hold no source text.
// netdsl owns a lookup record it created (Context 'netdsl') and a customer
// route in a routing domain of its own (the 6e64736c GUIDs below); after the
// last Sync call, Remove-NdStale* remove the owned ones this script no longer
// declares, so a VM removed from the source leaves no record behind, as on Linux.
constexpr std::string_view kNetWnvHelpers = R"PS(# What this run declares (keys), so that stale owned records can be removed.
$script:NdLookupKeys = @{}
$script:NdRouteKeys = @{}
$script:NdNatKeys = @{}

# Converges one lookup record: the CA of a VM NIC in a virtual subnet -> its
# host's PA and its MAC. netdsl creates records with Context 'netdsl'; one that
# differs is replaced (NetWNV cannot change a record's MAC address in place).
# A record another tool created is never replaced: equal, it is left alone;
# different, the script stops.
function Sync-NdLookupRecord {
  param([string]$CustomerAddress, [uint32]$VirtualSubnetID, [string]$MACAddress, [string]$ProviderAddress,
        [string]$CustomerID, [string]$VMName = '')
  $name = '{0}/{1}' -f $VirtualSubnetID, $CustomerAddress
  $script:NdLookupKeys[$name] = $true
  try {
    $record = Select-NdOne (Get-NetVirtualizationLookupRecord -CustomerAddress $CustomerAddress -VirtualSubnetID $VirtualSubnetID -ErrorAction SilentlyContinue) 'lookup record' $name
    $action = 'create'
    if ($null -ne $record) {
      $differs = (Test-NdDiffers $record 'ProviderAddress' $ProviderAddress) -or (Test-NdDiffers $record 'MACAddress' $MACAddress)
      if ([string](Get-NdValue $record 'Context') -ne 'netdsl') {
        if (-not $differs) {
          Write-Warning ('lookup record {0}: another tool created it (context ''{1}''); it matches the source, so it is left as it is' -f $name, (Get-NdValue $record 'Context'))
          return
        }
        throw ('another tool created this record (context ''{0}''), with provider address {1} and MAC {2}; netdsl replaces only records it created: remove it, or take the VM out of the source' -f (Get-NdValue $record 'Context'), (Get-NdValue $record 'ProviderAddress'), (Get-NdValue $record 'MACAddress'))
      }
      if (-not $differs) { return }
      $action = 'replace'
    }
    if (-not (Confirm-NdChange $action 'lookup record' $name)) { return }
    if ($null -ne $record) { Remove-NetVirtualizationLookupRecord -InputObject $record }
    if ($VMName -ne '') {
      New-NetVirtualizationLookupRecord -CustomerAddress $CustomerAddress -VirtualSubnetID $VirtualSubnetID -MACAddress $MACAddress -ProviderAddress $ProviderAddress -Rule 'TranslationMethodEncap' -CustomerID $CustomerID -Context 'netdsl' -VMName $VMName | Out-Null
    } else {
      New-NetVirtualizationLookupRecord -CustomerAddress $CustomerAddress -VirtualSubnetID $VirtualSubnetID -MACAddress $MACAddress -ProviderAddress $ProviderAddress -Rule 'TranslationMethodEncap' -CustomerID $CustomerID -Context 'netdsl' | Out-Null
    }
  } catch {
    throw ('{0} ''{1}'': {2}' -f 'lookup record', $name, $_.Exception.Message)
  }
}

# Converges one customer route of a routing domain; a route that differs is replaced.
function Sync-NdCustomerRoute {
  param([string]$RoutingDomainID, [uint32]$VirtualSubnetID, [string]$DestinationPrefix, [string]$NextHop)
  $name = '{0} {1}' -f $RoutingDomainID, $DestinationPrefix
  $script:NdRouteKeys[$name.ToLowerInvariant()] = $true
  try {
    $route = Select-NdOne (Get-NetVirtualizationCustomerRoute -RoutingDomainID $RoutingDomainID -DestinationPrefix $DestinationPrefix -ErrorAction SilentlyContinue) 'customer route' $name
    $action = 'create'
    if ($null -ne $route) {
      if (-not ((Test-NdDiffers $route 'NextHop' $NextHop) -or (Test-NdDiffers $route 'VirtualSubnetID' $VirtualSubnetID))) { return }
      $action = 'replace'
    }
    if (-not (Confirm-NdChange $action 'customer route' $name)) { return }
    if ($null -ne $route) { Remove-NetVirtualizationCustomerRoute -InputObject $route }
    New-NetVirtualizationCustomerRoute -RoutingDomainID $RoutingDomainID -VirtualSubnetID $VirtualSubnetID -DestinationPrefix $DestinationPrefix -NextHop $NextHop | Out-Null
  } catch {
    throw ('{0} ''{1}'': {2}' -f 'customer route', $name, $_.Exception.Message)
  }
}

# Removes the NetNat objects netdsl created that this run did not declare. Owned
# means both marks: the name netdsl gives (netdsl-rd<RDID>) and an internal
# routing domain of netdsl's ({6e64736c-0000-4000-8000-...}); any other NAT is
# never touched.
function Remove-NdStaleNats {
  $owned = @(Get-NetNat -ErrorAction SilentlyContinue | Where-Object {
    ([string](Get-NdValue $_ 'Name') -match '^netdsl-rd[0-9]+$') -and
    ([string](Get-NdValue $_ 'InternalRoutingDomainId') -match '^\{?6e64736c-0000-4000-8000-[0-9a-f]{12}\}?$') })
  foreach ($nat in $owned) {
    if ($script:NdNatKeys.ContainsKey([string]$nat.Name)) { continue }
    if (Confirm-NdChange 'remove' 'NAT' ([string]$nat.Name)) { Remove-NetNat -InputObject $nat -Confirm:$false }
  }
}

# Removes the lookup records netdsl created (Context 'netdsl') that this run did not declare.
function Remove-NdStaleLookupRecords {
  $owned = @(Get-NetVirtualizationLookupRecord -ErrorAction SilentlyContinue | Where-Object { [string](Get-NdValue $_ 'Context') -eq 'netdsl' })
  foreach ($record in $owned) {
    $name = '{0}/{1}' -f $record.VirtualSubnetID, $record.CustomerAddress
    if ($script:NdLookupKeys.ContainsKey($name)) { continue }
    if (Confirm-NdChange 'remove' 'lookup record' $name) { Remove-NetVirtualizationLookupRecord -InputObject $record }
  }
}

# Removes the customer routes in netdsl's routing domains ({6e64736c-0000-4000-8000-...}) that this run did not declare.
function Remove-NdStaleCustomerRoutes {
  $owned = @(Get-NetVirtualizationCustomerRoute -ErrorAction SilentlyContinue | Where-Object { [string](Get-NdValue $_ 'RoutingDomainID') -match '^\{?6e64736c-0000-4000-8000-[0-9a-f]{12}\}?$' })
  foreach ($route in $owned) {
    $name = '{0} {1}' -f $route.RoutingDomainID, $route.DestinationPrefix
    if ($script:NdRouteKeys.ContainsKey($name.ToLowerInvariant())) { continue }
    if (Confirm-NdChange 'remove' 'customer route' $name) { Remove-NetVirtualizationCustomerRoute -InputObject $route }
  }
}
)PS";

class HyperVEmitter {
 public:
  explicit HyperVEmitter(const ir::HostIr& h) : h_(h) {
    for (const ir::Segment& s : h_.segments) rdid_of_vsid_[s.vsid] = s.rdid;
  }

  std::string Emit() {
    w_.Prologue("hosts/" + h_.host + "/hyperv.ps1: Hyper-V, NetLbfo and NetVirtualization state of host " + h_.host,
                "", kNetWnvHelpers);
    w_.Comment("source " + h_.source_hash + ", generation " + std::to_string(h_.generation));
    for (const ir::Switch& s : h_.switches) Switch(s);
    for (const ir::ProviderAddress& pa : h_.provider_addresses) ProviderAddress(pa);
    for (const ir::Port& p : h_.ports) Port(p);
    for (const ir::LookupRecord& r : h_.lookup_records) LookupRecord(r);
    for (const ir::CustomerRoute& r : h_.customer_routes) CustomerRoute(r);
    for (const ir::NatRule& n : h_.nat_rules) Nat(n);
    Removals();
    w_.Epilogue("host");
    return w_.Finish();
  }

 private:
  const ir::Switch* FindSwitch(const std::string& name) const {
    for (const ir::Switch& s : h_.switches)
      if (s.name == name) return &s;
    return nullptr;
  }

  /// The interface that carries a switch's uplink traffic: its LBFO team NIC,
  /// the single uplink NIC, or the switch's host vNIC for embedded teaming.
  static std::string UplinkInterface(const ir::Switch& s) {
    if (s.uplink_mode == ir::UplinkMode::Team) return s.name;
    if (s.uplink_mode == ir::UplinkMode::EmbeddedTeam || s.uplinks.empty()) return "vEthernet (" + s.name + ")";
    return s.uplinks.front().nic;
  }

  void Confirmed(std::string_view action, std::string_view kind, const std::string& name,
                 const std::vector<std::string>& statements) {
    w_.Open("if (Confirm-NdChange " + Quote(action) + " " + Quote(kind) + " " + Quote(name) + ") {");
    for (const std::string& s : statements) w_.Line(s);
    w_.Close();
  }

  void Team(const ir::Switch& s, const ir::Teaming& teaming) {
    const std::string kind = "NIC team";
    std::vector<std::string> members;
    for (const ir::Uplink& u : s.uplinks) members.push_back(EscapeWildcard(u.nic));
    const std::string mode = Quote(ps::LbfoTeamingMode(teaming.mode));
    const std::string lb = Quote(ps::LbfoLoadBalancing(teaming.load_balancing));
    w_.BeginObject(kind, s.name);
    w_.Line("$teamName = " + Quote(s.name));
    w_.Line("$team = Select-NdOne (Get-NetLbfoTeam | Where-Object { $_.Name -eq $teamName }) " + Quote(kind) +
            " $teamName");
    w_.Open("if ($null -eq $team) {");
    Confirmed("create", kind, s.name,
              {"$team = New-NetLbfoTeam -Name $teamName -TeamMembers " + QuoteArray(members) + " -TeamingMode " +
               mode + " -LoadBalancingAlgorithm " + lb + " -Confirm:$false"});
    w_.Reopen("} else {");
    w_.Open("if ((Test-NdDiffers $team 'TeamingMode' " + mode + ") -or (Test-NdDiffers $team 'LoadBalancingAlgorithm' " +
            lb + ")) {");
    Confirmed("update", kind, s.name,
              {"Set-NetLbfoTeam -Name " + Quote(EscapeWildcard(s.name)) + " -TeamingMode " + mode +
               " -LoadBalancingAlgorithm " + lb + " -Confirm:$false"});
    w_.Close();
    w_.Line("$members = @(Get-NetLbfoTeamMember -Team " + Quote(EscapeWildcard(s.name)) +
            " | ForEach-Object { [string]$_.Name })");
    for (const ir::Uplink& u : s.uplinks) {
      w_.Open("if ($members -notcontains " + Quote(u.nic) + ") {");
      Confirmed("add member to", kind, s.name,
                {"Add-NetLbfoTeamMember -Name " + Quote(EscapeWildcard(u.nic)) +
                 " -Team $teamName -Confirm:$false | Out-Null"});
      w_.Close();
    }
    w_.Close();
    w_.EndObject(kind, s.name);
  }

  void Switch(const ir::Switch& s) {
    const ir::Teaming teaming = s.teaming.value_or(ir::Teaming{});
    if (s.uplink_mode == ir::UplinkMode::Team) Team(s, teaming);

    const std::string kind = "virtual switch";
    const std::string bw = Quote(ps::HyperVBandwidthMode(s.minimum_bandwidth_mode));
    std::vector<std::string> adapters;
    std::string extra;
    switch (s.uplink_mode) {
      case ir::UplinkMode::Team: adapters.push_back(s.name); break;
      case ir::UplinkMode::EmbeddedTeam:
        for (const ir::Uplink& u : s.uplinks) adapters.push_back(u.nic);
        extra = " -EnableEmbeddedTeaming $true";
        break;
      case ir::UplinkMode::NoTeam:
        if (!s.uplinks.empty()) adapters.push_back(s.uplinks.front().nic);
        break;
    }
    w_.BeginObject(kind, s.name);
    if (s.uplink_mode == ir::UplinkMode::EmbeddedTeam && teaming.mode != ir::TeamingMode::SwitchIndependent) {
      w_.Line("throw 'switch embedded teaming supports only switch independent teaming: set the uplink port "
              "profile''s teaming mode to switch_independent, or use uplink_mode = team'");
      w_.EndObject(kind, s.name);
      return;
    }
    if (adapters.empty()) {
      w_.Line("throw 'the switch has no uplink on this host'");
      w_.EndObject(kind, s.name);
      return;
    }
    if (s.uplink_mode == ir::UplinkMode::NoTeam && s.uplinks.size() > 1) {
      // A Hyper-V switch without teaming binds one adapter.
      for (size_t i = 1; i < s.uplinks.size(); ++i)
        w_.Line("Write-Warning ('virtual switch ''{0}'' has no uplink team, so network adapter ''{1}'' is not "
                "attached to it; use uplink_mode = team or embedded_team to attach several adapters' -f " +
                Quote(s.name) + ", " + Quote(s.uplinks[i].nic) + ")");
    }
    w_.Line("$switchName = " + Quote(s.name));
    w_.Line("$switch = Select-NdOne (Get-VMSwitch | Where-Object { $_.Name -eq $switchName }) " + Quote(kind) +
            " $switchName");
    // The management OS shares the switch that carries the host's management
    // adapter (a host vNIC named after the switch, onto which Windows moves the
    // NIC's IP settings), and no other switch once the host declares one.
    const bool management = h_.management && h_.management->switch_name == s.name;
    if (h_.management) extra += " -AllowManagementOS " + Bool(management);
    w_.Open("if ($null -eq $switch) {");
    Confirmed("create", kind, s.name,
              {"$switch = New-VMSwitch -Name $switchName -NetAdapterName " + QuoteArray(adapters) +
               " -EnableIov " + Bool(s.sriov) + " -MinimumBandwidthMode " + bw + extra});
    w_.Reopen("} else {");
    w_.Open("if (Test-NdDiffers $switch 'IovEnabled' " + Bool(s.sriov) + ") {");
    w_.Line(std::string("throw 'the existing switch has SR-IOV ") + (s.sriov ? "off" : "on") +
            " but the source asks for it " + (s.sriov ? "on" : "off") +
            ", and SR-IOV can only be chosen when a switch is created: remove the switch (Remove-VMSwitch) and run "
            "the script again'");
    w_.Close();
    w_.Open("if (Test-NdDiffers $switch 'BandwidthReservationMode' " + bw + ") {");
    w_.Line("throw 'its minimum bandwidth mode differs from the source, and the mode can only be chosen when a "
            "switch is created: remove the switch (Remove-VMSwitch) and run the script again'");
    w_.Close();
    if (management) {
      w_.Open("if (Test-NdDiffers $switch 'AllowManagementOS' $true) {");
      Confirmed("add the management adapter to", kind, s.name,
                {"Set-VMSwitch -VMSwitch $switch -AllowManagementOS $true"});
      w_.Close();
    } else if (h_.management) {
      // Taking a host vNIC away can cut the host off: say so, never do it.
      w_.Open("if ([bool](Get-NdValue $switch 'AllowManagementOS')) {");
      w_.Line("Write-Warning ('virtual switch ''{0}'' shares its uplink with the management OS, but the source puts "
              "the management adapter on switch ''{1}''; once the host is reachable there, run Set-VMSwitch -Name "
              "''{0}'' -AllowManagementOS $false' -f $switchName, " + Quote(h_.management->switch_name) + ")");
      w_.Close();
    }
    w_.Close();
    if (s.uplink_mode == ir::UplinkMode::EmbeddedTeam &&
        teaming.load_balancing != ir::LoadBalancing::HostDefault) {
      // SET balances by Hyper-V port or dynamically; address hashing maps to Dynamic.
      const std::string lb =
          teaming.load_balancing == ir::LoadBalancing::HyperVPort ? "'HyperVPort'" : "'Dynamic'";
      w_.Line("$setTeam = $null");
      w_.Line("if ($null -ne $switch) { $setTeam = Get-VMSwitchTeam -VMSwitch $switch }");
      w_.Open("if ($null -ne $switch -and (Test-NdDiffers $setTeam 'LoadBalancingAlgorithm' " + lb + ")) {");
      Confirmed("update", "switch team", s.name,
                {"Set-VMSwitchTeam -VMSwitch $switch -LoadBalancingAlgorithm " + lb + " | Out-Null"});
      w_.Close();
    }
    // Switch extensions (a logical switch's `extensions`): enabled by object, so no name is a pattern.
    for (const std::string& ext : s.extensions) {
      w_.Line("$extension = $null");
      w_.Line("if ($null -ne $switch) { $extension = Select-NdOne (Get-VMSwitchExtension -VMSwitch $switch | "
              "Where-Object { $_.Name -eq " + Quote(ext) + " }) 'switch extension' " + Quote(ext) + " }");
      w_.Open("if ($null -ne $switch -and $null -eq $extension) {");
      w_.Line("throw ('the host has no switch extension ''{0}'' on this switch: install it, or remove it from "
              "`extensions`' -f " + Quote(ext) + ")");
      w_.Reopen("} elseif ($null -ne $extension -and -not [bool](Get-NdValue $extension 'Enabled')) {");
      Confirmed("enable", "switch extension", s.name + "/" + ext,
                {"Enable-VMSwitchExtension -VMSwitchExtension $extension | Out-Null"});
      w_.Close();
    }
    w_.EndObject(kind, s.name);
    if (management) Management(*h_.management);
  }

  /// The host vNIC of the management OS on the management switch (created by
  /// -AllowManagementOS, named after the switch): its VLAN, and unless the
  /// NIC's settings are inherited, the declared address and default route.
  /// Addresses and routes the source does not declare are reported, never
  /// removed (the session running the script may depend on them).
  void Management(const ir::Management& m) {
    const std::string kind = "management adapter", name = m.switch_name;
    const std::string alias = "vEthernet (" + m.switch_name + ")";
    w_.BeginObject(kind, name);
    w_.Line("$managementName = " + Quote(m.switch_name));
    w_.Line("$management = $null");
    w_.Line("if ($null -ne $switch) { $management = Select-NdOne (Get-VMNetworkAdapter -ManagementOS | "
            "Where-Object { $_.SwitchName -eq $managementName -and $_.Name -eq $managementName }) " + Quote(kind) +
            " $managementName }");
    w_.Open("if ($null -ne $switch -and $null -eq $management -and -not $script:NdDryRun) {");
    w_.Line("throw ('virtual switch ''{0}'' has no management OS adapter named ''{0}''; the source puts the "
            "management adapter of NIC ''{1}'' there' -f $managementName, " + Quote(m.nic) + ")");
    w_.Close();
    w_.Open("if ($null -ne $management) {");
    w_.Line("$vlan = Get-VMNetworkAdapterVlan -VMNetworkAdapter $management");
    if (m.vlan) {
      w_.Open("if ((Test-NdDiffers $vlan 'OperationMode' 'Access') -or (Test-NdDiffers $vlan 'AccessVlanId' " +
              Int(m.vlan) + ")) {");
      Confirmed("set VLAN of", kind, name,
                {"Set-VMNetworkAdapterVlan -VMNetworkAdapter $management -Access -VlanId " + Int(m.vlan)});
    } else {
      w_.Open("if (Test-NdDiffers $vlan 'OperationMode' 'Untagged') {");
      Confirmed("set VLAN of", kind, name, {"Set-VMNetworkAdapterVlan -VMNetworkAdapter $management -Untagged"});
    }
    w_.Close();
    w_.Close();
    if (!m.inherit && m.address) {
      const std::string ip = m.address->ToString(), family = m.address->IsV4() ? "'IPv4'" : "'IPv6'";
      const std::string address = ip + "/" + std::to_string(m.prefix_length);
      w_.Line("$interfaceName = " + Quote(alias));
      w_.Line("$interface = Select-NdOne (Get-NetAdapter -Name " + Quote(EscapeWildcard(alias)) +
              " -ErrorAction SilentlyContinue) 'network adapter' $interfaceName");
      w_.Open("if ($null -ne $interface) {");
      w_.Line("$addresses = @(Get-NetIPAddress -InterfaceIndex $interface.ifIndex -AddressFamily " + family +
              " -ErrorAction SilentlyContinue | Where-Object { [string](Get-NdValue $_ 'PrefixOrigin') -ne 'WellKnown' })");
      w_.Open("if (@($addresses | Where-Object { [string]$_.IPAddress -eq " + Quote(ip) + " -and [int]$_.PrefixLength -eq " +
              Int(m.prefix_length) + " }).Count -eq 0) {");
      Confirmed("add address " + address + " to", kind, name,
                {"New-NetIPAddress -InterfaceIndex $interface.ifIndex -IPAddress " + Quote(ip) + " -PrefixLength " +
                 Int(m.prefix_length) + " | Out-Null"});
      w_.Close();
      w_.Open("foreach ($other in @($addresses | Where-Object { [string]$_.IPAddress -ne " + Quote(ip) + " })) {");
      w_.Line("Write-Warning ('management adapter ''{0}'' also has address {1}, which the source does not declare; it "
              "is left as it is (remove it once the host answers at " + address + ")' -f $managementName, "
              "$other.IPAddress)");
      w_.Close();
      if (m.gateway) {
        const std::string gw = m.gateway->ToString(), def = m.address->IsV4() ? "0.0.0.0/0" : "::/0";
        w_.Open("if (@(Get-NetRoute -InterfaceIndex $interface.ifIndex -DestinationPrefix " + Quote(def) +
                " -ErrorAction SilentlyContinue | Where-Object { [string]$_.NextHop -eq " + Quote(gw) +
                " }).Count -eq 0) {");
        Confirmed("add default route via " + gw + " to", kind, name,
                  {"New-NetRoute -InterfaceIndex $interface.ifIndex -DestinationPrefix " + Quote(def) + " -NextHop " +
                   Quote(gw) + " | Out-Null"});
        w_.Close();
      }
      w_.Close();
    }
    w_.EndObject(kind, name);
  }

  void ProviderAddress(const ir::ProviderAddress& pa) {
    const std::string kind = "provider address", ip = pa.ip.ToString();
    const ir::Switch* sw = FindSwitch(pa.switch_name);
    const std::string ifname = sw ? UplinkInterface(*sw) : pa.switch_name;
    w_.BeginObject(kind, ip);
    w_.Line("$interfaceName = " + Quote(ifname));
    w_.Line("$interface = Select-NdOne (Get-NetAdapter -Name " + Quote(EscapeWildcard(ifname)) +
            " -ErrorAction SilentlyContinue) 'network adapter' $interfaceName");
    w_.Open("if ($null -eq $interface -and -not $script:NdDryRun) {");
    w_.Line("throw ('the host has no network adapter ''{0}'' to carry it' -f $interfaceName)");
    w_.Close();
    w_.Line("$pa = Select-NdOne (Get-NetVirtualizationProviderAddress -ProviderAddress " + Quote(ip) +
            " -ErrorAction SilentlyContinue) " + Quote(kind) + " " + Quote(ip));
    std::string vlan = pa.vlan ? " -VlanID " + Int(pa.vlan) : "";
    w_.Open("if ($null -eq $pa) {");
    Confirmed("create", kind, ip,
              {"New-NetVirtualizationProviderAddress -ProviderAddress " + Quote(ip) +
               " -InterfaceIndex $interface.ifIndex -PrefixLength " + Int(pa.prefix_length) + vlan + " | Out-Null"});
    w_.Reopen("} elseif ($null -ne $interface -and (Test-NdDiffers $pa 'InterfaceIndex' $interface.ifIndex)) {");
    Confirmed("move", kind, ip,
              {"Remove-NetVirtualizationProviderAddress -InputObject $pa",
               "New-NetVirtualizationProviderAddress -ProviderAddress " + Quote(ip) +
                   " -InterfaceIndex $interface.ifIndex -PrefixLength " + Int(pa.prefix_length) + vlan +
                   " | Out-Null"});
    w_.Reopen("} elseif ((Test-NdDiffers $pa 'PrefixLength' " + Int(pa.prefix_length) +
              ") -or (Test-NdDiffers $pa 'VlanID' " + Int(pa.vlan) + ")) {");
    Confirmed("update", kind, ip,
              {"Set-NetVirtualizationProviderAddress -InputObject $pa -PrefixLength " + Int(pa.prefix_length) +
               " -VlanID " + Int(pa.vlan)});
    w_.Close();
    if (pa.gateway) {
      const std::string gw = pa.gateway->ToString();
      const std::string def = pa.ip.IsV4() ? "0.0.0.0/0" : "::/0";
      w_.Open("if ($null -ne $interface) {");
      w_.Line("$route = Select-NdOne (Get-NetVirtualizationProviderRoute -InterfaceIndex $interface.ifIndex "
              "-DestinationPrefix " + Quote(def) + " -ErrorAction SilentlyContinue) 'provider route' " + Quote(def));
      w_.Open("if ($null -eq $route) {");
      Confirmed("create", "provider route", def + " via " + gw,
                {"New-NetVirtualizationProviderRoute -InterfaceIndex $interface.ifIndex -DestinationPrefix " +
                 Quote(def) + " -NextHop " + Quote(gw) + " | Out-Null"});
      w_.Reopen("} elseif (Test-NdDiffers $route 'NextHop' " + Quote(gw) + ") {");
      Confirmed("update", "provider route", def + " via " + gw,
                {"Remove-NetVirtualizationProviderRoute -InputObject $route",
                 "New-NetVirtualizationProviderRoute -InterfaceIndex $interface.ifIndex -DestinationPrefix " +
                     Quote(def) + " -NextHop " + Quote(gw) + " | Out-Null"});
      w_.Close();
      w_.Close();
    }
    w_.EndObject(kind, ip);
  }

  void Port(const ir::Port& p) {
    const std::string kind = "VM network adapter", name = p.vm + "/" + p.nic;
    const std::string mac = ps::HyperVMac(p.mac);
    w_.BeginObject(kind, name);
    w_.Line("$adapterName = " + Quote(p.nic));
    w_.Line("$switchName = " + Quote(p.switch_name));
    w_.Line("$adapter = Select-NdOne (Get-VMNetworkAdapter -VMName " + Quote(EscapeWildcard(p.vm)) +
            " | Where-Object { $_.Name -eq $adapterName }) " + Quote(kind) + " " + Quote(name));
    w_.Open("if ($null -eq $adapter) {");
    Confirmed("create", kind, name,
              {"$adapter = Add-VMNetworkAdapter -VMName " + Quote(EscapeWildcard(p.vm)) +
               " -Name $adapterName -SwitchName $switchName -StaticMacAddress " + Quote(mac) + " -Passthru"});
    w_.Reopen("} else {");
    w_.Open("if (Test-NdDiffers $adapter 'SwitchName' $switchName) {");
    Confirmed("connect", kind, name, {"Connect-VMNetworkAdapter -VMNetworkAdapter $adapter -SwitchName $switchName"});
    w_.Close();
    w_.Open("if (Test-NdDiffers $adapter 'MacAddress' " + Quote(mac) + ") {");
    Confirmed("set MAC address of", kind, name,
              {"Set-VMNetworkAdapter -VMNetworkAdapter $adapter -StaticMacAddress " + Quote(mac)});
    w_.Close();
    w_.Close();

    // Port policy: security, offloads, bandwidth, virtual subnet.
    ir::PortPolicy policy;
    if (p.policy < h_.policies.size()) policy = h_.policies[p.policy];
    std::vector<std::pair<std::string, std::string>> settings = {
        {"MacAddressSpoofing", OnOff(policy.mac_spoofing)},
        {"DhcpGuard", OnOff(policy.dhcp_guard)},
        {"RouterGuard", OnOff(policy.router_guard)},
        {"IeeePriorityTag", OnOff(policy.ieee_priority_tagging)},
        {"AllowTeaming", OnOff(policy.guest_teaming)},
        {"VmqWeight", policy.vmq ? "100" : "0"},
        {"IovWeight", policy.sriov ? "100" : "0"},
    };
    std::string params, conditions;
    for (const auto& [param, value] : settings) {
      params += " -" + param + " " + value;
      conditions += (conditions.empty() ? "" : " -or ") + std::string("(Test-NdDiffers $adapter '") + param + "' " +
                    value + ")";
    }
    params += " -VrssEnabled " + Bool(policy.vrss);
    conditions += " -or (Test-NdDiffers $adapter 'VrssEnabled' " + Bool(policy.vrss) + ")";
    // The adapter reports the SA count as IPsecOffloadMaxSA.
    const std::string sa = policy.ipsec_offload ? "512" : "0";
    params += " -IPsecOffloadMaximumSecurityAssociation " + sa;
    conditions += " -or (Test-NdDiffers $adapter 'IPsecOffloadMaxSA' " + sa + ")";
    if (p.vsid) {
      params += " -VirtualSubnetId " + Int(p.vsid);
      conditions += " -or (Test-NdDiffers $adapter 'VirtualSubnetId' " + Int(p.vsid) + ")";
    }
    std::vector<std::pair<std::string, std::string>> bandwidth;
    if (policy.minimum_weight) bandwidth.push_back({"MinimumBandwidthWeight", Int(*policy.minimum_weight)});
    if (policy.minimum_absolute)
      bandwidth.push_back({"MinimumBandwidthAbsolute", std::to_string(*policy.minimum_absolute)});
    if (policy.maximum) bandwidth.push_back({"MaximumBandwidth", std::to_string(*policy.maximum)});
    for (const auto& [param, value] : bandwidth) {
      params += " -" + param + " " + value;
      conditions += " -or (Test-NdDiffers (Get-NdValue $adapter 'BandwidthSetting') '" + param + "' " + value + ")";
    }
    w_.Open("if ($null -ne $adapter -and (" + conditions + ")) {");
    Confirmed("set port policy of", kind, name, {"Set-VMNetworkAdapter -VMNetworkAdapter $adapter" + params});
    w_.Close();

    // VLAN: access mode for a tagged port, untagged otherwise.
    w_.Open("if ($null -ne $adapter) {");
    w_.Line("$vlan = Get-VMNetworkAdapterVlan -VMNetworkAdapter $adapter");
    if (p.vlan) {
      w_.Open("if ((Test-NdDiffers $vlan 'OperationMode' 'Access') -or (Test-NdDiffers $vlan 'AccessVlanId' " +
              Int(p.vlan) + ")) {");
      Confirmed("set VLAN of", kind, name,
                {"Set-VMNetworkAdapterVlan -VMNetworkAdapter $adapter -Access -VlanId " + Int(p.vlan)});
    } else {
      w_.Open("if (Test-NdDiffers $vlan 'OperationMode' 'Untagged') {");
      Confirmed("set VLAN of", kind, name, {"Set-VMNetworkAdapterVlan -VMNetworkAdapter $adapter -Untagged"});
    }
    w_.Close();
    w_.Close();
    w_.EndObject(kind, name);
  }

  void LookupRecord(const ir::LookupRecord& r) {
    std::string call = "Sync-NdLookupRecord -CustomerAddress " + Quote(r.ca.ToString()) + " -VirtualSubnetID " +
                       Int(r.vsid) + " -MACAddress " + Quote(ps::HyperVMac(r.mac)) + " -ProviderAddress " +
                       Quote(r.pa.ToString());
    auto rdid = rdid_of_vsid_.find(r.vsid);
    call += " -CustomerID " + Quote(RoutingDomainGuid(rdid != rdid_of_vsid_.end() ? rdid->second : 0));
    if (r.local) call += " -VMName " + Quote(r.vm);
    if (!lookup_header_) {
      w_.Line("");
      w_.Comment("lookup records: every VM NIC on a virtual subnet this host carries");
      lookup_header_ = true;
    }
    // The routing domain's gateway (its customer address on the gateway host):
    // the -NextHop of the default customer route (docs/powershell.md).
    w_.Line(call + "  # " + ps::CommentText(r.gateway ? "gateway on " + r.host : r.vm + "/" + r.nic + " on " + r.host));
  }

  void CustomerRoute(const ir::CustomerRoute& r) {
    // A gateway route names the subnet holding its next hop (the gateway's CA).
    uint32_t vsid = r.vsid;
    if (!vsid)  // no CA: the routing domain's first local subnet
      for (const ir::Segment& s : h_.segments)
        if (s.rdid == r.rdid) {
          vsid = s.vsid;
          break;
        }
    std::string next_hop = r.kind == ir::CustomerRoute::Kind::OnLink || !r.next_hop
                               ? (r.prefix.address.IsV4() ? "0.0.0.0" : "::")
                               : r.next_hop->ToString();
    if (!route_header_) {
      w_.Line("");
      w_.Comment("customer routes of the routing domains on this host");
      route_header_ = true;
    }
    w_.Line("Sync-NdCustomerRoute -RoutingDomainID " + Quote(RoutingDomainGuid(r.rdid)) + " -VirtualSubnetID " +
            Int(vsid) + " -DestinationPrefix " + Quote(r.prefix.ToString()) + " -NextHop " + Quote(next_hop) +
            "  # routing domain " + std::to_string(r.rdid));
  }

  /// After every Sync call and NAT: the owned state this host no longer has goes.
  void Removals() {
    w_.Line("");
    w_.Comment("lookup records, customer routes and NATs netdsl created that the source no longer has");
    w_.Line("Remove-NdStaleLookupRecords");
    w_.Line("Remove-NdStaleCustomerRoutes");
    w_.Line("Remove-NdStaleNats");
  }

  /// NAT for one VM network on its gateway host, as the Linux backend does it:
  /// the routing domain's traffic leaves through the external address. A
  /// NetNat in the routing domain (`-InternalRoutingDomainId`, the multi-tenant
  /// NAT of a Windows gateway) with the external address added to it, and the
  /// address itself on a host vNIC of the switch carrying the external pool's
  /// site. The NetNat is netdsl's by its name and routing domain; after the
  /// last one, Remove-NdStaleNats removes the owned ones the source dropped.
  void Nat(const ir::NatRule& n) {
    const std::string kind = "NAT", name = "netdsl-rd" + std::to_string(n.rdid);
    const std::string ip = n.external_ip.ToString();
    w_.Line("");
    w_.Comment("NAT for VM network " + n.vm_network + " (routing domain " + std::to_string(n.rdid) +
               ") through external address " + ip + " from pool " + n.external_pool);
    w_.BeginObject(kind, name);
    w_.Line("$natName = " + Quote(name));
    w_.Line("$script:NdNatKeys[$natName] = $true");
    if (!n.external_ip.IsV4()) {
      // NetNat translates IPv4 only; say so instead of pretending.
      w_.Line("throw ('VM network ''{0}'': NetNat translates IPv4 only, and its external address {1} is IPv6' -f " +
              Quote(n.vm_network) + ", " + Quote(ip) + ")");
      w_.EndObject(kind, name);
      return;
    }
    if (!n.external_switch.empty()) NatAddress(n);
    const std::string rd = Quote(RoutingDomainGuid(n.rdid));
    w_.Line("$nat = Select-NdOne (Get-NetNat -ErrorAction SilentlyContinue | Where-Object { $_.Name -eq $natName }) " +
            Quote(kind) + " $natName");
    w_.Open("if ($null -eq $nat) {");
    Confirmed("create", kind, name, {"$nat = New-NetNat -Name $natName -InternalRoutingDomainId " + rd});
    w_.Reopen("} elseif (Test-NdDiffers $nat 'InternalRoutingDomainId' " + rd + ") {");
    // The routing domain is chosen at creation; the name says the NAT is netdsl's.
    Confirmed("replace", kind, name,
              {"Remove-NetNat -InputObject $nat -Confirm:$false",
               "$nat = New-NetNat -Name $natName -InternalRoutingDomainId " + rd});
    w_.Close();
    w_.Open("if ($null -ne $nat) {");
    w_.Line("$external = @(Get-NetNatExternalAddress -NatName $natName -ErrorAction SilentlyContinue)");
    w_.Open("if (@($external | Where-Object { [string]$_.IPAddress -eq " + Quote(ip) + " }).Count -eq 0) {");
    Confirmed("add external address " + ip + " to", kind, name,
              {"Add-NetNatExternalAddress -NatName $natName -IPAddress " + Quote(ip) + " | Out-Null"});
    w_.Close();
    // The NAT is netdsl's, so are its external addresses: the source has one.
    w_.Open("foreach ($other in @($external | Where-Object { [string]$_.IPAddress -ne " + Quote(ip) + " })) {");
    w_.Open("if (Confirm-NdChange ('remove external address {0} from' -f $other.IPAddress) " + Quote(kind) +
            " $natName) {");
    w_.Line("Remove-NetNatExternalAddress -InputObject $other -Confirm:$false");
    w_.Close();
    w_.Close();
    w_.Close();
    w_.EndObject(kind, name);
  }

  /// The external address on the host: a management OS vNIC named
  /// `netdsl NAT SWITCH` on the external switch (the switch's uplink NIC
  /// carries no address once Hyper-V binds it), on the site's VLAN.
  void NatAddress(const ir::NatRule& n) {
    const std::string kind = "NAT adapter", vnic = "netdsl NAT " + n.external_switch;
    const std::string ip = n.external_ip.ToString();
    w_.Line("$natSwitchName = " + Quote(n.external_switch));
    w_.Line("$natAdapterName = " + Quote(vnic));
    w_.Line("$natAdapter = Select-NdOne (Get-VMNetworkAdapter -ManagementOS | Where-Object { $_.SwitchName -eq "
            "$natSwitchName -and $_.Name -eq $natAdapterName }) " + Quote(kind) + " $natAdapterName");
    w_.Open("if ($null -eq $natAdapter) {");
    Confirmed("create", kind, vnic,
              {"$natAdapter = Add-VMNetworkAdapter -ManagementOS -Name $natAdapterName -SwitchName $natSwitchName "
               "-Passthru"});
    w_.Close();
    w_.Open("if ($null -ne $natAdapter) {");
    w_.Line("$vlan = Get-VMNetworkAdapterVlan -VMNetworkAdapter $natAdapter");
    if (n.external_vlan) {
      w_.Open("if ((Test-NdDiffers $vlan 'OperationMode' 'Access') -or (Test-NdDiffers $vlan 'AccessVlanId' " +
              Int(n.external_vlan) + ")) {");
      Confirmed("set VLAN of", kind, vnic,
                {"Set-VMNetworkAdapterVlan -VMNetworkAdapter $natAdapter -Access -VlanId " + Int(n.external_vlan)});
    } else {
      w_.Open("if (Test-NdDiffers $vlan 'OperationMode' 'Untagged') {");
      Confirmed("set VLAN of", kind, vnic, {"Set-VMNetworkAdapterVlan -VMNetworkAdapter $natAdapter -Untagged"});
    }
    w_.Close();
    w_.Close();
    const std::string alias = "vEthernet (" + vnic + ")";
    w_.Line("$interfaceName = " + Quote(alias));
    w_.Line("$interface = Select-NdOne (Get-NetAdapter -Name " + Quote(EscapeWildcard(alias)) +
            " -ErrorAction SilentlyContinue) 'network adapter' $interfaceName");
    w_.Open("if ($null -ne $interface -and @(Get-NetIPAddress -InterfaceIndex $interface.ifIndex -AddressFamily 'IPv4' "
            "-ErrorAction SilentlyContinue | Where-Object { [string]$_.IPAddress -eq " + Quote(ip) +
            " }).Count -eq 0) {");
    Confirmed("add address " + ip + "/" + std::to_string(n.external_prefix_length) + " to", kind, vnic,
              {"New-NetIPAddress -InterfaceIndex $interface.ifIndex -IPAddress " + Quote(ip) + " -PrefixLength " +
               Int(n.external_prefix_length) + " | Out-Null"});
    w_.Close();
  }

  const ir::HostIr& h_;
  std::map<uint32_t, uint32_t> rdid_of_vsid_;
  bool lookup_header_ = false, route_header_ = false;
  ps::ScriptWriter w_;
};

}  // namespace

std::string EmitHyperVScript(const ir::HostIr& host) { return HyperVEmitter(host).Emit(); }

}  // namespace netdsl::backends
