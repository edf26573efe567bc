// EmitFabricScript: the allocated fabric → `scvmm/fabric.ps1`, VMM cmdlets in
// dependency order, each object looked up, created if absent, set if different.
#include <algorithm>
#include <string>
#include <vector>

#include "backends/powershell/powershell_backend.h"
#include "backends/powershell/ps_text.h"
#include "backends/powershell/script_writer.h"

namespace netdsl::backends {
namespace {

using ps::Bool;
using ps::Quote;
using ps::QuoteArray;
using ps::VariableArray;

std::string Var(std::string_view prefix, size_t index) {
  std::string out = "$";
  out += prefix;
  out += std::to_string(index);
  return out;
}

std::string Int(int64_t v) { return std::to_string(v); }

/// ` -Description '...'` when the source gives one; "" otherwise (an object
/// without a description in the source keeps whatever VMM has).
std::string Desc(const std::string& description) {
  return description.empty() ? std::string() : " -Description " + Quote(description);
}

/// netdsl's mark on the VMM objects it creates: the end of their description.
constexpr std::string_view kMark = "[netdsl]";

/// ` -Description '<text> [netdsl]'` for an object netdsl creates: the source's
/// description (if any) followed by the mark, so that a later run knows the
/// object is netdsl's (Get-SC* objects return their Description).
std::string MarkedDesc(const std::string& description) {
  return " -Description " + Quote(description.empty() ? std::string(kMark) : description + " " + std::string(kMark));
}

// Fixed text (no source text): what marks an object, what this run declares,
// and the report/removal of marked objects the source no longer has.
constexpr std::string_view kPruneHelpers = R"PS(# Objects netdsl creates in VMM end their description with this mark. With
# -Prune, marked objects the source no longer has are removed; without it they
# are listed. An object without the mark is never removed.
$script:NdMark = '[netdsl]'
$script:NdPrune = $Prune.IsPresent
$script:NdDeclared = @{}
$script:NdStale = 0

# Notes that this run declares an object of $Kind at $Path (parent names, then its name).
function Add-NdDeclared {
  param([string]$Kind, [string[]]$Path)
  $script:NdDeclared[((@($Kind) + $Path) -join [char]0)] = $true
}

# $true when netdsl created the object (its description ends with the mark).
function Test-NdMarked {
  param($Object)
  if ($null -eq $Object) { return $false }
  $p = $Object.PSObject.Properties['Description']
  return ($null -ne $p -and ([string]$p.Value).EndsWith($script:NdMark))
}

# The description to set on an existing object: the source's text, with the
# mark kept on an object netdsl created. An object netdsl did not create is
# never given the mark (it would become removable).
function Get-NdDescription {
  param($Object, [string]$Text)
  if (Test-NdMarked $Object) {
    if ($Text -eq '') { return $script:NdMark }
    return ('{0} {1}' -f $Text, $script:NdMark)
  }
  if ($Text.EndsWith($script:NdMark)) {
    Write-Warning ('the description ''{0}'' ends with netdsl''s mark, and the object was not created by netdsl; its description is left as it is' -f $Text)
    return [string](Get-NdValue $Object 'Description')
  }
  return $Text
}

# One object found in VMM: nothing when it is not marked or this run declares
# it; otherwise reported, and with -Prune removed by $Remove.
function Remove-NdStale {
  param([string]$Kind, [string[]]$Path, $Object, [scriptblock]$Remove)
  if (-not (Test-NdMarked $Object)) { return }
  if ($script:NdDeclared.ContainsKey(((@($Kind) + $Path) -join [char]0))) { return }
  $name = $Path -join '/'
  if (-not $script:NdPrune) {
    $script:NdStale++
    Write-Warning ('{0} ''{1}'': netdsl created it and the source no longer has it; run with -Prune to remove it' -f $Kind, $name)
    return
  }
  if (Confirm-NdChange 'remove' $Kind $name) { & $Remove $Object }
}

# VMM's adapter of a VM with a given MAC address: VMM's view of a VM NIC that
# hyperv.ps1 created with netdsl's MAC. VMM's adapters are read once
# (Get-SCVirtualNetworkAdapter -All -ParentTypeVMOrHost); an adapter lacking a
# property matches nothing.
$script:NdVMAdapters = $null
function Find-NdVMAdapter {
  param([string]$VMName, [string]$MACAddress)
  if ($null -eq $script:NdVMAdapters) { $script:NdVMAdapters = @(Get-SCVirtualNetworkAdapter -All -ParentTypeVMOrHost) }
  $want = ($MACAddress -replace '[-:]', '').ToUpperInvariant()
  $found = @($script:NdVMAdapters | Where-Object {
    $n = $_.PSObject.Properties['Name']
    $m = $_.PSObject.Properties['MACAddress']
    $null -ne $n -and $null -ne $m -and [string]$n.Value -eq $VMName -and ([string]$m.Value -replace '[-:]', '').ToUpperInvariant() -eq $want })
  return Select-NdOne $found 'VMM virtual network adapter' ('{0} {1}' -f $VMName, $MACAddress)
}
)PS";

constexpr std::string_view kPruneSection = R"PS(
# VMM objects netdsl created (marked) that the source no longer has: listed,
# and removed with -Prune, dependents first. Host groups and logical network
# definitions carry no mark of their own (a definition goes with its marked
# logical network).
foreach ($vmn in @(Get-SCVMNetwork)) {
  foreach ($o in @(Get-SCNATConnection -VMNetwork $vmn)) {
    Remove-NdStale 'NAT connection' @($vmn.Name, $o.Name) $o { param($x) Remove-SCNATConnection -NATConnection $x | Out-Null }
  }
  foreach ($o in @(Get-SCVMNetworkGateway -VMNetwork $vmn)) {
    Remove-NdStale 'VM network gateway' @($vmn.Name, $o.Name) $o { param($x) Remove-SCVMNetworkGateway -VMNetworkGateway $x | Out-Null }
  }
  foreach ($vms in @(Get-SCVMSubnet -VMNetwork $vmn)) {
    foreach ($o in @(Get-SCStaticIPAddressPool -VMSubnet $vms)) {
      Remove-NdStale 'static IP address pool' @($vmn.Name, $vms.Name, $o.Name) $o { param($x) Remove-SCStaticIPAddressPool -StaticIPAddressPool $x | Out-Null }
    }
    Remove-NdStale 'VM subnet' @($vmn.Name, $vms.Name) $vms { param($x) Remove-SCVMSubnet -VMSubnet $x | Out-Null }
  }
  Remove-NdStale 'VM network' @($vmn.Name) $vmn { param($x) Remove-SCVMNetwork -VMNetwork $x | Out-Null }
}
foreach ($ls in @(Get-SCLogicalSwitch)) {
  foreach ($o in @(Get-SCVirtualNetworkAdapterPortProfileSet -LogicalSwitch $ls)) {
    Remove-NdStale 'virtual network adapter port profile set' @($ls.Name, $o.Name) $o { param($x) Remove-SCVirtualNetworkAdapterPortProfileSet -VirtualNetworkAdapterPortProfileSet $x | Out-Null }
  }
  foreach ($o in @(Get-SCUplinkPortProfileSet -LogicalSwitch $ls)) {
    Remove-NdStale 'uplink port profile set' @($ls.Name, $o.Name) $o { param($x) Remove-SCUplinkPortProfileSet -UplinkPortProfileSet $x | Out-Null }
  }
  Remove-NdStale 'logical switch' @($ls.Name) $ls { param($x) Remove-SCLogicalSwitch -LogicalSwitch $x | Out-Null }
}
foreach ($o in @(Get-SCNativeUplinkPortProfile)) {
  Remove-NdStale 'native uplink port profile' @($o.Name) $o { param($x) Remove-SCNativeUplinkPortProfile -NativeUplinkPortProfile $x | Out-Null }
}
foreach ($o in @(Get-SCVirtualNetworkAdapterNativePortProfile)) {
  Remove-NdStale 'virtual network adapter port profile' @($o.Name) $o { param($x) Remove-SCVirtualNetworkAdapterNativePortProfile -VirtualNetworkAdapterNativePortProfile $x | Out-Null }
}
foreach ($o in @(Get-SCPortClassification)) {
  Remove-NdStale 'port classification' @($o.Name) $o { param($x) Remove-SCPortClassification -PortClassification $x | Out-Null }
}
foreach ($o in @(Get-SCMACAddressPool)) {
  Remove-NdStale 'MAC address pool' @($o.Name) $o { param($x) Remove-SCMACAddressPool -MACAddressPool $x | Out-Null }
}
foreach ($ln in @(Get-SCLogicalNetwork)) {
  foreach ($site in @(Get-SCLogicalNetworkDefinition -LogicalNetwork $ln)) {
    foreach ($o in @(Get-SCStaticIPAddressPool -LogicalNetworkDefinition $site)) {
      Remove-NdStale 'static IP address pool' @($ln.Name, $site.Name, $o.Name) $o { param($x) Remove-SCStaticIPAddressPool -StaticIPAddressPool $x | Out-Null }
    }
  }
  Remove-NdStale 'logical network' @($ln.Name) $ln {
    param($x)
    foreach ($site in @(Get-SCLogicalNetworkDefinition -LogicalNetwork $x)) { Remove-SCLogicalNetworkDefinition -LogicalNetworkDefinition $site | Out-Null }
    Remove-SCLogicalNetwork -LogicalNetwork $x | Out-Null
  }
}
if ($script:NdStale -gt 0) {
  Write-Warning ('{0} VMM object(s) netdsl created are no longer in the source; run with -Prune to remove them' -f $script:NdStale)
}
)PS";

/// Emits the fabric script; one method per kind of object, called in dependency order.
class FabricEmitter {
 public:
  explicit FabricEmitter(const alloc::AllocatedFabric& af) : af_(af), f_(af.fabric) {}

  std::string Emit() {
    w_.Prologue("scvmm/fabric.ps1: the netdsl fabric through System Center VMM cmdlets",
                "[string]$VMMServer = 'localhost',\n  [switch]$Prune,", kPruneHelpers);
    w_.Line("$null = Get-SCVMMServer -ComputerName $VMMServer");
    HostGroups();
    for (size_t i = 0; i < f_.logical_networks.size(); ++i) LogicalNetwork(i);
    for (size_t i = 0; i < f_.mac_pools.size(); ++i) MacPool(i);
    for (size_t i = 0; i < f_.port_classifications.size(); ++i) PortClassification(i);
    for (size_t i = 0; i < f_.port_profiles.size(); ++i) PortProfile(i);
    for (size_t i = 0; i < f_.uplink_port_profiles.size(); ++i) UplinkPortProfile(i);
    for (size_t i = 0; i < f_.logical_switches.size(); ++i) LogicalSwitch(i);
    for (size_t i = 0; i < f_.vm_networks.size(); ++i) VmNetwork(i);
    // VMM manages the Hyper-V hosts; Linux hosts get linux.yaml instead.
    for (size_t i = 0; i < f_.hosts.size(); ++i)
      if (f_.hosts[i].platform == model::Platform::HyperV) HostAdapters(i);
    for (size_t v = 0; v < f_.vms.size(); ++v)
      if (f_.vms[v].host != model::kNone && f_.hosts[f_.vms[v].host].platform == model::Platform::HyperV)
        for (size_t n = 0; n < f_.vms[v].nics.size(); ++n) VmAdapter(v, n);
    for (std::string_view line : Lines(kPruneSection)) w_.Line(line);
    w_.Epilogue("fabric");
    return w_.Finish();
  }

 private:
  static std::vector<std::string_view> Lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      out.push_back(text.substr(0, nl));
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    }
    return out;
  }
  /// `Add-NdDeclared KIND @(PATH)`: this run declares the object (never pruned).
  void Declared(std::string_view kind, const std::vector<std::string>& path) {
    w_.Line("Add-NdDeclared " + Quote(kind) + " " + QuoteArray(path));
  }
  /// An existing object's description differs from the source's (the mark
  /// kept on objects netdsl created).
  static std::string DescDiffers(const std::string& var, const std::string& description) {
    return "Test-NdDiffers " + var + " 'Description' (Get-NdDescription " + var + " " + Quote(description) + ")";
  }
  static std::string DescUpdate(const std::string& var, const std::string& description) {
    return description.empty() ? std::string()
                               : " -Description (Get-NdDescription " + var + " " + Quote(description) + ")";
  }
  // `if ($null -eq $var) { create } else { compare + set }` opener.
  void CreateBranch(const std::string& var, std::string_view kind, const std::string& name) {
    w_.Open("if ($null -eq " + var + ") {");
    w_.Open("if (Confirm-NdChange 'create' " + Quote(kind) + " " + Quote(name) + ") {");
  }
  // Emits `if (cond) { if (Confirm 'update') { stmt | Out-Null } }`.
  void UpdateIf(const std::string& condition, std::string_view kind, const std::string& name,
                const std::vector<std::string>& statements) {
    w_.Open("if (" + condition + ") {");
    w_.Open("if (Confirm-NdChange 'update' " + Quote(kind) + " " + Quote(name) + ") {");
    for (const std::string& s : statements) w_.Line(s + " | Out-Null");
    w_.Close();
    w_.Close();
  }
  // Lookup under a parent that may not exist yet (in a dry run).
  void LookupUnder(const std::string& var, const std::string& parent, const std::string& get,
                   std::string_view kind, const std::string& name) {
    w_.Line(var + " = $null");
    w_.Line("if ($null -ne " + parent + ") { " + var + " = Select-NdOne (" + get + ") " + Quote(kind) + " " +
            Quote(name) + " }");
  }
  void Lookup(const std::string& var, const std::string& get, std::string_view kind, const std::string& name) {
    w_.Line(var + " = Select-NdOne (" + get + ") " + Quote(kind) + " " + Quote(name));
  }
  static std::string Either(const std::vector<std::string>& conditions) {
    std::string out;
    for (size_t i = 0; i < conditions.size(); ++i) out += (i ? " -or (" : "(") + conditions[i] + ")";
    return out;
  }

  void HostGroups() {
    // Parents before children: sort by depth, then source order.
    std::vector<size_t> order(f_.host_groups.size());
    std::vector<int> depth(f_.host_groups.size(), 0);
    for (size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
      for (uint32_t p = f_.host_groups[i].parent; p != model::kNone && depth[i] < 64; p = f_.host_groups[p].parent)
        ++depth[i];
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return depth[a] < depth[b]; });
    for (size_t i : order) {
      const model::HostGroup& g = f_.host_groups[i];
      const std::string var = Var("hg", i), kind = "host group";
      w_.BeginObject(kind, g.name);
      if (g.parent == model::kNone) {
        Lookup(var, "Get-SCVMHostGroup -Name " + Quote(g.name), kind, g.name);
        CreateBranch(var, kind, g.name);
        w_.Line(var + " = New-SCVMHostGroup -Name " + Quote(g.name) + Desc(g.description));
      } else {
        const std::string parent = Var("hg", g.parent);
        LookupUnder(var, parent, "Get-SCVMHostGroup -ParentHostGroup " + parent + " -Name " + Quote(g.name), kind,
                    g.name);
        CreateBranch(var, kind, g.name);
        w_.Line(var + " = New-SCVMHostGroup -Name " + Quote(g.name) + Desc(g.description) + " -ParentHostGroup " +
                parent);
      }
      w_.Close();
      if (!g.description.empty()) {
        w_.Reopen("} else {");
        UpdateIf("Test-NdDiffers " + var + " 'Description' " + Quote(g.description), kind, g.name,
                 {"Set-SCVMHostGroup -VMHostGroup " + var + Desc(g.description)});
      }
      w_.Close();
      w_.EndObject(kind, g.name);
    }
  }

  bool NeedsDefinitionIsolation(size_t ln) const {
    for (const model::VmNetwork& n : f_.vm_networks)
      if (n.logical_network == ln && n.isolation == model::Isolation::Vlan) return true;
    return false;
  }

  void LogicalNetwork(size_t i) {
    const model::LogicalNetwork& ln = f_.logical_networks[i];
    const std::string var = Var("ln", i), kind = "logical network";
    const bool nv = ln.network_virtualization;
    const bool isolated = NeedsDefinitionIsolation(i);
    w_.BeginObject(kind, ln.name);
    Declared(kind, {ln.name});
    Lookup(var, "Get-SCLogicalNetwork -Name " + Quote(ln.name), kind, ln.name);
    CreateBranch(var, kind, ln.name);
    w_.Line(var + " = New-SCLogicalNetwork -Name " + Quote(ln.name) + MarkedDesc(ln.description) +
            " -EnableNetworkVirtualization " + Bool(nv) + " -UseGRE " + Bool(nv) +
            " -LogicalNetworkDefinitionIsolation " + Bool(isolated) + " -IsPVLAN $false");
    w_.Close();
    w_.Reopen("} else {");
    std::vector<std::string> conditions = {
        "Test-NdDiffers " + var + " 'NetworkVirtualizationEnabled' " + Bool(nv),
        "Test-NdDiffers " + var + " 'IsLogicalNetworkDefinitionIsolated' " + Bool(isolated)};
    if (!ln.description.empty()) conditions.push_back(DescDiffers(var, ln.description));
    UpdateIf(Either(conditions), kind, ln.name,
             {"Set-SCLogicalNetwork -LogicalNetwork " + var + DescUpdate(var, ln.description) + " -EnableNetworkVirtualization " +
              Bool(nv) + " -UseGRE " + Bool(nv) + " -LogicalNetworkDefinitionIsolation " + Bool(isolated)});
    w_.Close();
    w_.EndObject(kind, ln.name);
    // Children by their owner index (every object exactly once, in source order).
    for (size_t s = 0; s < f_.sites.size(); ++s)
      if (f_.sites[s].logical_network == i) Site(s);
    for (size_t p = 0; p < f_.ip_pools.size(); ++p)
      if (f_.ip_pools[p].vm_subnet == model::kNone && f_.ip_pools[p].logical_network == i) IpPool(p);
  }

  static std::string SubnetVlanKey(const net::Prefix& prefix, uint16_t vlan) {
    return prefix.ToString() + "@" + std::to_string(vlan);
  }

  void Site(size_t i) {
    const model::Site& s = f_.sites[i];
    const std::string var = Var("site", i), kind = "logical network definition";
    const std::string ln = Var("ln", s.logical_network);
    w_.BeginObject(kind, s.name);
    // VMM keeps no description on a logical network definition (no -Description).
    if (!s.description.empty()) w_.Comment("description (not kept by VMM): " + s.description);
    LookupUnder(var, ln, "Get-SCLogicalNetworkDefinition -LogicalNetwork " + ln + " -Name " + Quote(s.name), kind,
                s.name);
    std::vector<std::string> subnet_vlans, keys, groups;
    for (const model::SiteSubnet& sub : s.subnets) {
      subnet_vlans.push_back("(New-SCSubnetVLan -Subnet " + Quote(sub.prefix.ToString()) + " -VLanID " +
                             Int(sub.vlan) + ")");
      keys.push_back(SubnetVlanKey(sub.prefix, sub.vlan));
    }
    for (uint32_t g : s.host_groups) groups.push_back(Var("hg", g));
    w_.Line("$subnetVlans = " + VariableArray(subnet_vlans));
    w_.Line("$hostGroups = " + VariableArray(groups));
    CreateBranch(var, kind, s.name);
    w_.Line(var + " = New-SCLogicalNetworkDefinition -Name " + Quote(s.name) + " -LogicalNetwork " + ln +
            " -SubnetVLan $subnetVlans -VMHostGroup $hostGroups");
    w_.Close();
    w_.Reopen("} else {");
    UpdateIf("Test-NdSubnetVlansDiffer " + var + " 'SubnetVLans' " + QuoteArray(keys), kind, s.name,
             {"Set-SCLogicalNetworkDefinition -LogicalNetworkDefinition " + var + " -SubnetVLan $subnetVlans"});
    w_.Line("$add = @(Select-NdMissing $hostGroups (Get-NdValue " + var + " 'HostGroups'))");
    w_.Line("$remove = @(Select-NdMissing (Get-NdValue " + var + " 'HostGroups') $hostGroups)");
    UpdateIf("$add.Count -gt 0", kind, s.name,
             {"Set-SCLogicalNetworkDefinition -LogicalNetworkDefinition " + var + " -AddVMHostGroup $add"});
    UpdateIf("$remove.Count -gt 0", kind, s.name,
             {"Set-SCLogicalNetworkDefinition -LogicalNetworkDefinition " + var + " -RemoveVMHostGroup $remove"});
    w_.Close();
    w_.EndObject(kind, s.name);
  }

  static std::string JoinAddresses(const std::vector<net::IpAddress>& list) {
    std::string out;
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) out += ',';
      out += list[i].ToString();
    }
    return out;
  }

  // A static IP pool under a site (logical network) or a VM subnet (VM network).
  void IpPool(size_t i) {
    const model::IpPool& p = f_.ip_pools[i];
    const std::string var = Var("pool", i), kind = "static IP address pool";
    const bool on_site = p.vm_subnet == model::kNone;
    const std::string parent = on_site ? Var("site", p.site) : Var("vms", p.vm_subnet);
    const std::string parent_param = on_site ? " -LogicalNetworkDefinition " : " -VMSubnet ";
    if (on_site ? p.site == model::kNone : false) return;
    std::vector<std::string> dns;
    for (const net::IpAddress& a : p.dns) dns.push_back(a.ToString());
    // VMM must not hand out the PAs netdsl gave its Hyper-V hosts from this
    // pool (hyperv.ps1 assigns them): they join the pool's reserved set.
    std::vector<net::IpAddress> reserved_list = p.reserved, pas;
    for (const alloc::ProviderAddress& pa : af_.allocation.provider_addresses)
      if (pa.ip_pool == i && pa.host < f_.hosts.size() && f_.hosts[pa.host].platform == model::Platform::HyperV &&
          std::find(reserved_list.begin(), reserved_list.end(), pa.ip) == reserved_list.end())
        pas.push_back(pa.ip);
    std::sort(pas.begin(), pas.end());
    pas.erase(std::unique(pas.begin(), pas.end()), pas.end());
    reserved_list.insert(reserved_list.end(), pas.begin(), pas.end());
    const std::string reserved = JoinAddresses(reserved_list), vips = JoinAddresses(p.vips);
    std::string values = " -IPAddressRangeStart " + Quote(p.range_first.ToString()) +
                         " -IPAddressRangeEnd " + Quote(p.range_last.ToString());
    if (!dns.empty()) values += " -DNSServer " + QuoteArray(dns);
    if (!reserved.empty()) values += " -IPAddressReservedSet " + Quote(reserved);
    if (!vips.empty()) values += " -VIPAddressSet " + Quote(vips);
    // The default gateway is an object New-SCDefaultGateway makes (metric automatic, as the console does).
    const std::string gateway = p.gateway ? p.gateway->ToString() : std::string();
    if (p.gateway) values += " -DefaultGateway $defaultGateways";

    w_.BeginObject(kind, p.name);
    if (on_site)
      Declared(kind, {f_.logical_networks[f_.sites[p.site].logical_network].name, f_.sites[p.site].name, p.name});
    else
      Declared(kind, {f_.vm_networks[f_.vm_subnets[p.vm_subnet].vm_network].name, f_.vm_subnets[p.vm_subnet].name,
                      p.name});
    LookupUnder(var, parent, "Get-SCStaticIPAddressPool" + parent_param + parent + " -Name " + Quote(p.name), kind,
                p.name);
    if (p.gateway) w_.Line("$defaultGateways = @((New-SCDefaultGateway -IPAddress " + Quote(gateway) + " -Automatic))");
    CreateBranch(var, kind, p.name);
    w_.Line(var + " = New-SCStaticIPAddressPool -Name " + Quote(p.name) + parent_param + parent + " -Subnet " +
            Quote(p.subnet.ToString()) + MarkedDesc(p.description) + values);
    w_.Close();
    w_.Reopen("} else {");
    w_.Open("if (Test-NdDiffers " + var + " 'Subnet' " + Quote(p.subnet.ToString()) + ") {");
    w_.Line(
        "throw 'its subnet differs from the source, and a pool''s subnet is fixed when the pool is created: "
        "remove the pool in VMM and run the script again'");
    w_.Close();
    std::vector<std::string> conditions = {
        "Test-NdDiffers " + var + " 'IPAddressRangeStart' " + Quote(p.range_first.ToString()),
        "Test-NdDiffers " + var + " 'IPAddressRangeEnd' " + Quote(p.range_last.ToString())};
    if (!dns.empty()) conditions.push_back("Test-NdDiffers " + var + " 'DNSServers' " + QuoteArray(dns));
    if (!reserved.empty()) conditions.push_back("Test-NdDiffers " + var + " 'IPAddressReservedSet' " + Quote(reserved));
    if (!vips.empty()) conditions.push_back("Test-NdDiffers " + var + " 'VIPAddressSet' " + Quote(vips));
    if (!p.description.empty()) conditions.push_back(DescDiffers(var, p.description));
    if (p.gateway) conditions.push_back("Test-NdGatewaysDiffer " + var + " " + QuoteArray({gateway}));
    UpdateIf(Either(conditions), kind, p.name,
             {"Set-SCStaticIPAddressPool -StaticIPAddressPool " + var + DescUpdate(var, p.description) + values});
    w_.Close();
    w_.EndObject(kind, p.name);
  }

  void MacPool(size_t i) {
    const model::MacPool& m = f_.mac_pools[i];
    const std::string var = Var("mac", i), kind = "MAC address pool";
    std::vector<std::string> groups;
    for (size_t g = 0; g < f_.host_groups.size(); ++g)
      if (f_.host_groups[g].parent == model::kNone) groups.push_back(Var("hg", g));
    const std::string first = ps::VmmMac(m.first), last = ps::VmmMac(m.last);
    w_.BeginObject(kind, m.name);
    if (groups.empty()) {
      w_.Line("throw 'the fabric has no host group to scope the pool to'");
      w_.EndObject(kind, m.name);
      return;
    }
    Declared(kind, {m.name});
    Lookup(var, "Get-SCMACAddressPool -Name " + Quote(m.name), kind, m.name);
    CreateBranch(var, kind, m.name);
    w_.Line(var + " = New-SCMACAddressPool -Name " + Quote(m.name) + MarkedDesc(m.description) + " -MACAddressRangeStart " +
            Quote(first) + " -MACAddressRangeEnd " + Quote(last) + " -VMHostGroup " + VariableArray(groups));
    w_.Close();
    w_.Reopen("} else {");
    std::vector<std::string> conditions = {"Test-NdDiffers " + var + " 'MACAddressRangeStart' " + Quote(first),
                                           "Test-NdDiffers " + var + " 'MACAddressRangeEnd' " + Quote(last)};
    if (!m.description.empty()) conditions.push_back(DescDiffers(var, m.description));
    UpdateIf(Either(conditions), kind, m.name,
             {"Set-SCMACAddressPool -MACAddressPool " + var + DescUpdate(var, m.description) + " -MACAddressRangeStart " +
              Quote(first) + " -MACAddressRangeEnd " + Quote(last)});
    w_.Close();
    w_.EndObject(kind, m.name);
  }

  void PortClassification(size_t i) {
    const model::PortClassification& c = f_.port_classifications[i];
    const std::string var = Var("pc", i), kind = "port classification";
    w_.BeginObject(kind, c.name);
    Declared(kind, {c.name});
    Lookup(var, "Get-SCPortClassification -Name " + Quote(c.name), kind, c.name);
    CreateBranch(var, kind, c.name);
    w_.Line(var + " = New-SCPortClassification -Name " + Quote(c.name) + MarkedDesc(c.description));
    w_.Close();
    if (!c.description.empty()) {
      w_.Reopen("} else {");
      UpdateIf(DescDiffers(var, c.description), kind, c.name,
               {"Set-SCPortClassification -PortClassification " + var + DescUpdate(var, c.description)});
    }
    w_.Close();
    w_.EndObject(kind, c.name);
  }

  void PortProfile(size_t i) {
    const model::PortProfile& p = f_.port_profiles[i];
    const std::string var = Var("pp", i), kind = "virtual network adapter port profile";
    // (parameter, value) pairs; the object's properties carry the same names.
    std::vector<std::pair<std::string, std::string>> settings = {
        {"AllowMacAddressSpoofing", Bool(p.security.mac_spoofing)},
        {"EnableDhcpGuard", Bool(p.security.dhcp_guard)},
        {"EnableRouterGuard", Bool(p.security.router_guard)},
        {"AllowIeeePriorityTagging", Bool(p.security.ieee_priority_tagging)},
        {"EnableGuestIPNetworkVirtualizationUpdates", Bool(p.security.guest_specified_ip)},
        {"EnableVmq", Bool(p.offload.vmq)},
        {"EnableIPsecOffload", Bool(p.offload.ipsec_offload)},
        {"EnableIov", Bool(p.offload.sriov)},
        {"AllowTeaming", Bool(p.security.guest_teaming)},
        {"EnableVrss", Bool(p.offload.vrss)},
    };
    if (p.bandwidth.minimum_weight) settings.push_back({"MinimumBandwidthWeight", Int(*p.bandwidth.minimum_weight)});
    if (p.bandwidth.minimum_absolute)
      settings.push_back({"MinimumBandwidthAbsolute", Int(ps::ToVmmMbps(*p.bandwidth.minimum_absolute))});
    if (p.bandwidth.maximum) settings.push_back({"MaximumBandwidth", Int(ps::ToVmmMbps(*p.bandwidth.maximum))});
    std::string params;
    std::vector<std::string> conditions;
    if (!p.description.empty()) conditions.push_back(DescDiffers(var, p.description));
    for (const auto& [name, value] : settings) {
      params += " -" + name + " " + value;
      conditions.push_back("Test-NdDiffers " + var + " '" + name + "' " + value);
    }
    w_.BeginObject(kind, p.name);
    Declared(kind, {p.name});
    Lookup(var, "Get-SCVirtualNetworkAdapterNativePortProfile -Name " + Quote(p.name), kind, p.name);
    CreateBranch(var, kind, p.name);
    w_.Line(var + " = New-SCVirtualNetworkAdapterNativePortProfile -Name " + Quote(p.name) +
            MarkedDesc(p.description) + params);
    w_.Close();
    w_.Reopen("} else {");
    UpdateIf(Either(conditions), kind, p.name,
             {"Set-SCVirtualNetworkAdapterNativePortProfile -VirtualNetworkAdapterNativePortProfile " + var +
              DescUpdate(var, p.description) + params});
    w_.Close();
    w_.EndObject(kind, p.name);
  }

  void UplinkPortProfile(size_t i) {
    const model::UplinkPortProfile& u = f_.uplink_port_profiles[i];
    const std::string var = Var("upp", i), kind = "native uplink port profile";
    const model::UplinkPortProfile::Teaming teaming = u.teaming.value_or(model::UplinkPortProfile::Teaming{});
    const std::string mode = Quote(ps::VmmTeamingMode(teaming.mode));
    const std::string lb = Quote(ps::VmmLoadBalancing(teaming.load_balancing));
    std::vector<std::string> defs;
    for (uint32_t s : u.sites) defs.push_back(Var("site", s));
    const std::string desc = DescUpdate(var, u.description);
    const std::string nv = Bool(UplinkNetworkVirtualization(u));
    w_.BeginObject(kind, u.name);
    Declared(kind, {u.name});
    Lookup(var, "Get-SCNativeUplinkPortProfile -Name " + Quote(u.name), kind, u.name);
    w_.Line("$definitions = @(" + VariableArray(defs) + " | Where-Object { $null -ne $_ })");
    CreateBranch(var, kind, u.name);
    w_.Line(var + " = New-SCNativeUplinkPortProfile -Name " + Quote(u.name) + MarkedDesc(u.description) +
            " -LogicalNetworkDefinition $definitions -EnableNetworkVirtualization " + nv + " -LBFOTeamMode " + mode +
            " -LBFOLoadBalancingAlgorithm " + lb);
    w_.Close();
    w_.Reopen("} else {");
    std::vector<std::string> conditions = {"Test-NdDiffers " + var + " 'LBFOTeamMode' " + mode,
                                           "Test-NdDiffers " + var + " 'LBFOLoadBalancingAlgorithm' " + lb,
                                           "Test-NdDiffers " + var + " 'EnableNetworkVirtualization' " + nv};
    if (!desc.empty()) conditions.push_back(DescDiffers(var, u.description));
    UpdateIf(Either(conditions), kind, u.name,
             {"Set-SCNativeUplinkPortProfile -NativeUplinkPortProfile " + var + desc + " -EnableNetworkVirtualization " +
              nv + " -LBFOTeamMode " + mode + " -LBFOLoadBalancingAlgorithm " + lb});
    w_.Line("$add = @(Select-NdMissing $definitions (Get-NdValue " + var + " 'LogicalNetworkDefinitions'))");
    w_.Line("$remove = @(Select-NdMissing (Get-NdValue " + var + " 'LogicalNetworkDefinitions') $definitions)");
    UpdateIf("$add.Count -gt 0", kind, u.name,
             {"Set-SCNativeUplinkPortProfile -NativeUplinkPortProfile " + var + " -AddLogicalNetworkDefinition $add"});
    UpdateIf("$remove.Count -gt 0", kind, u.name,
             {"Set-SCNativeUplinkPortProfile -NativeUplinkPortProfile " + var +
              " -RemoveLogicalNetworkDefinition $remove"});
    w_.Close();
    w_.EndObject(kind, u.name);
  }

  /// The uplink profile's "enable network virtualization": as written, else on
  /// when a site it carries belongs to a logical network with network virtualization.
  bool UplinkNetworkVirtualization(const model::UplinkPortProfile& u) const {
    if (u.network_virtualization) return *u.network_virtualization;
    for (uint32_t s : u.sites)
      if (s < f_.sites.size() && f_.sites[s].logical_network < f_.logical_networks.size() &&
          f_.logical_networks[f_.sites[s].logical_network].network_virtualization)
        return true;
    return false;
  }

  void LogicalSwitch(size_t i) {
    const model::LogicalSwitch& s = f_.logical_switches[i];
    const std::string var = Var("ls", i), kind = "logical switch";
    const std::string mode = Quote(ps::VmmUplinkMode(s.uplink_mode));
    const std::string bw = Quote(ps::VmmBandwidthMode(s.minimum_bandwidth_mode));
    const std::string desc = DescUpdate(var, s.description);
    w_.BeginObject(kind, s.name);
    Declared(kind, {s.name});
    Lookup(var, "Get-SCLogicalSwitch -Name " + Quote(s.name), kind, s.name);
    CreateBranch(var, kind, s.name);
    w_.Line(var + " = New-SCLogicalSwitch -Name " + Quote(s.name) + MarkedDesc(s.description) + " -EnableSriov " + Bool(s.sriov) +
            " -SwitchUplinkMode " + mode + " -MinimumBandwidthMode " + bw);
    w_.Close();
    w_.Reopen("} else {");
    w_.Open("if (Test-NdDiffers " + var + " 'EnableSriov' " + Bool(s.sriov) + ") {");
    w_.Line(std::string("throw ('the existing switch has SR-IOV ") + (s.sriov ? "off" : "on") +
            " but the source asks for it " + (s.sriov ? "on" : "off") +
            ", and SR-IOV can only be chosen when a logical switch is created: remove the switch from its "
            "hosts and from VMM and run the script again, or change `sriov` in the source')");
    w_.Close();
    std::vector<std::string> conditions = {"Test-NdDiffers " + var + " 'UplinkMode' " + mode,
                                           "Test-NdDiffers " + var + " 'MinimumBandwidthMode' " + bw};
    if (!desc.empty()) conditions.push_back(DescDiffers(var, s.description));
    UpdateIf(Either(conditions), kind, s.name,
             {"Set-SCLogicalSwitch -LogicalSwitch " + var + desc + " -SwitchUplinkMode " + mode +
              " -MinimumBandwidthMode " + bw});
    w_.Close();
    if (!s.extensions.empty()) {
      // Extension objects come from Get-SCVirtualSwitchExtension, which is not in
      // the cmdlet schema: report what is missing, never guess (hyperv.ps1 enables them on the host).
      std::vector<std::string> names(s.extensions.begin(), s.extensions.end());
      w_.Line("$extensions = @(Get-NdNames (Get-NdValue " + var + " 'VirtualSwitchExtensions'))");
      w_.Line("$missing = @(" + QuoteArray(names) + " | Where-Object { $extensions -notcontains $_ })");
      w_.Open("if ($null -ne " + var + " -and $missing.Count -gt 0) {");
      w_.Line("Write-Warning ('logical switch ''{0}'': switch extension(s) {1} are not on the switch in VMM; "
              "Get-SCVirtualSwitchExtension is outside the cmdlet schema netdsl checks against, so add them in the "
              "switch''s Extensions page (hyperv.ps1 enables them on each host)' -f " +
              Quote(s.name) + ", ($missing -join ', '))");
      w_.Close();
    }
    w_.EndObject(kind, s.name);

    for (size_t u = 0; u < s.uplinks.size(); ++u) {
      const model::UplinkPortProfile& up = f_.uplink_port_profiles[s.uplinks[u]];
      const std::string set = UplinkSetVar(i, s.uplinks[u]), upp = Var("upp", s.uplinks[u]);
      const std::string set_kind = "uplink port profile set";
      w_.BeginObject(set_kind, up.name);
      Declared(set_kind, {s.name, up.name});
      LookupUnder(set, var, "Get-SCUplinkPortProfileSet -LogicalSwitch " + var + " -Name " + Quote(up.name),
                  set_kind, up.name);
      CreateBranch(set, set_kind, up.name);
      w_.Line(set + " = New-SCUplinkPortProfileSet -Name " + Quote(up.name) + MarkedDesc("") + " -LogicalSwitch " + var +
              " -NativeUplinkPortProfile " + upp);
      w_.Close();
      w_.Reopen("} else {");
      UpdateIf("Test-NdNamesDiffer " + set + " 'NativeUplinkPortProfile' " + QuoteArray({up.name}), set_kind, up.name,
               {"Set-SCUplinkPortProfileSet -UplinkPortProfileSet " + set + " -NativeUplinkPortProfile " + upp});
      w_.Close();
      w_.EndObject(set_kind, up.name);
    }
    for (size_t v = 0; v < s.virtual_ports.size(); ++v) {
      const model::VirtualPort& vp = s.virtual_ports[v];
      if (vp.classification == model::kNone) continue;
      const std::string set = "$vps" + std::to_string(i) + "_" + std::to_string(v);
      const std::string set_kind = "virtual network adapter port profile set";
      const std::string pc = Var("pc", vp.classification);
      const std::string& pc_name = f_.port_classifications[vp.classification].name;
      std::string profile, condition = "Test-NdNamesDiffer " + set + " 'PortClassification' " + QuoteArray({pc_name});
      if (vp.profile != model::kNone) {
        profile = " -VirtualNetworkAdapterNativePortProfile " + Var("pp", vp.profile);
        condition = "(" + condition + ") -or (Test-NdNamesDiffer " + set +
                    " 'VirtualNetworkAdapterNativePortProfile' " +
                    QuoteArray({f_.port_profiles[vp.profile].name}) + ")";
      }
      w_.BeginObject(set_kind, vp.name);
      Declared(set_kind, {s.name, vp.name});
      LookupUnder(set, var,
                  "Get-SCVirtualNetworkAdapterPortProfileSet -LogicalSwitch " + var + " -Name " + Quote(vp.name),
                  set_kind, vp.name);
      CreateBranch(set, set_kind, vp.name);
      w_.Line(set + " = New-SCVirtualNetworkAdapterPortProfileSet -Name " + Quote(vp.name) + MarkedDesc(vp.description) +
              " -LogicalSwitch " + var + " -PortClassification " + pc + profile);
      w_.Close();
      w_.Reopen("} else {");
      if (!vp.description.empty())
        condition = "(" + condition + ") -or (" + DescDiffers(set, vp.description) + ")";
      UpdateIf(condition, set_kind, vp.name,
               {"Set-SCVirtualNetworkAdapterPortProfileSet -VirtualNetworkAdapterPortProfileSet " + set +
                DescUpdate(set, vp.description) + " -PortClassification " + pc + profile});
      w_.Close();
      w_.EndObject(set_kind, vp.name);
    }
  }

  static std::string UplinkSetVar(size_t ls, uint32_t upp) {
    return "$uset" + std::to_string(ls) + "_" + std::to_string(upp);
  }

  // The site of `ln` whose subnets carry `vlan` (for VLAN-isolated VM subnets).
  uint32_t SiteForVlan(uint32_t ln, uint16_t vlan) const {
    if (ln == model::kNone) return model::kNone;
    for (uint32_t s : f_.logical_networks[ln].sites)
      for (const model::SiteSubnet& sub : f_.sites[s].subnets)
        if (sub.vlan == vlan) return s;
    return f_.logical_networks[ln].sites.empty() ? model::kNone : f_.logical_networks[ln].sites.front();
  }

  void VmNetwork(size_t i) {
    const model::VmNetwork& n = f_.vm_networks[i];
    const std::string var = Var("vmn", i), kind = "VM network";
    const std::string ln = Var("ln", n.logical_network);
    const std::string& ln_name = f_.logical_networks[n.logical_network].name;
    const std::string isolation = Quote(ps::VmmIsolationType(n.isolation));
    const bool virtualized = n.isolation == model::Isolation::Nvgre || n.isolation == model::Isolation::Vxlan;
    std::string params = " -LogicalNetwork " + ln + " -IsolationType " + isolation;
    if (virtualized) {
      bool v6 = false;
      for (uint32_t s : n.vm_subnets) v6 = v6 || !f_.vm_subnets[s].prefix.address.IsV4();
      bool pa_v6 = false;
      for (uint32_t s : f_.logical_networks[n.logical_network].sites)
        for (const model::SiteSubnet& sub : f_.sites[s].subnets) pa_v6 = pa_v6 || !sub.prefix.address.IsV4();
      params += std::string(" -CAIPAddressPoolType ") + (v6 ? "'IPV6'" : "'IPV4'") + " -PAIPAddressPoolType " +
                (pa_v6 ? "'IPV6'" : "'IPV4'");
    }
    w_.BeginObject(kind, n.name);
    Declared(kind, {n.name});
    Lookup(var, "Get-SCVMNetwork -Name " + Quote(n.name), kind, n.name);
    CreateBranch(var, kind, n.name);
    w_.Line(var + " = New-SCVMNetwork -Name " + Quote(n.name) + MarkedDesc(n.description) + params);
    w_.Close();
    w_.Reopen("} else {");
    w_.Open("if (Test-NdNamesDiffer " + var + " 'LogicalNetwork' " + QuoteArray({ln_name}) + ") {");
    w_.Line("throw ('it is on logical network ''{0}'' in VMM but on ''{1}'' in the source, and a VM network''s "
            "logical network is fixed when it is created: remove the VM network in VMM and run the script again' -f "
            "((Get-NdNames (Get-NdValue " + var + " 'LogicalNetwork')) -join ', '), " + Quote(ln_name) + ")");
    w_.Close();
    w_.Open("if (Test-NdDiffers " + var + " 'IsolationType' " + isolation + ") {");
    w_.Line("throw ('its isolation is {0} in VMM but {1} in the source, and a VM network''s isolation is fixed "
            "when it is created: remove the VM network in VMM and run the script again' -f (Get-NdValue " +
            var + " 'IsolationType'), " + isolation + ")");
    w_.Close();
    if (!n.description.empty())
      UpdateIf(DescDiffers(var, n.description), kind, n.name,
               {"Set-SCVMNetwork -VMNetwork " + var + DescUpdate(var, n.description)});
    w_.Close();
    w_.EndObject(kind, n.name);

    for (size_t s = 0; s < f_.vm_subnets.size(); ++s)
      if (f_.vm_subnets[s].vm_network == i) VmSubnet(static_cast<uint32_t>(s), n);
    for (size_t p = 0; p < f_.ip_pools.size(); ++p) {
      const uint32_t subnet = f_.ip_pools[p].vm_subnet;
      if (subnet < f_.vm_subnets.size() && f_.vm_subnets[subnet].vm_network == i) IpPool(p);
    }
    if (n.gateway) Gateway(i);
  }

  void VmSubnet(uint32_t i, const model::VmNetwork& n) {
    const model::VmSubnet& s = f_.vm_subnets[i];
    const std::string var = Var("vms", i), kind = "VM subnet";
    const std::string vmn = Var("vmn", s.vm_network);
    const bool vlan = n.isolation == model::Isolation::Vlan;
    const uint16_t vlan_id = vlan ? s.vlan : 0;
    const uint32_t vsid = i < af_.allocation.vsid.size() ? af_.allocation.vsid[i] : s.vsid.value_or(0);
    w_.BeginObject(kind, s.name);
    Declared(kind, {n.name, s.name});
    LookupUnder(var, vmn, "Get-SCVMSubnet -VMNetwork " + vmn + " -Name " + Quote(s.name), kind, s.name);
    w_.Line("$subnetVlans = @(New-SCSubnetVLan -Subnet " + Quote(s.prefix.ToString()) + " -VLanID " + Int(vlan_id) +
            ")");
    CreateBranch(var, kind, s.name);
    std::string create = var + " = New-SCVMSubnet -Name " + Quote(s.name) + MarkedDesc(s.description) + " -VMNetwork " +
                         vmn + " -SubnetVLan $subnetVlans";
    if (vlan) {
      uint32_t site = SiteForVlan(n.logical_network, vlan_id);
      if (site != model::kNone) create += " -LogicalNetworkDefinition " + Var("site", site);
    } else if (vsid) {
      create += " -VMSubnetID " + Int(vsid);
    }
    w_.Line(create);
    w_.Close();
    w_.Reopen("} else {");
    if (!vlan && vsid) {
      w_.Open("if (Test-NdDiffers " + var + " 'VMSubnetID' " + Int(vsid) + ") {");
      w_.Line("throw ('its VSID is {0} in VMM but {1} in the source and netdsl.lock, and a VM subnet''s VSID is "
              "fixed when it is created: remove the VM subnet in VMM, or pin `vsid = {0};` in the source' -f "
              "(Get-NdValue " + var + " 'VMSubnetID'), " + Int(vsid) + ")");
      w_.Close();
    }
    UpdateIf("Test-NdSubnetVlansDiffer " + var + " 'SubnetVLans' " +
                 QuoteArray({SubnetVlanKey(s.prefix, vlan_id)}),
             kind, s.name, {"Set-SCVMSubnet -VMSubnet " + var + " -SubnetVLan $subnetVlans"});
    if (!s.description.empty())
      UpdateIf(DescDiffers(var, s.description), kind, s.name,
               {"Set-SCVMSubnet -VMSubnet " + var + DescUpdate(var, s.description)});
    w_.Close();
    w_.EndObject(kind, s.name);
  }

  void Gateway(size_t i) {
    const model::VmNetwork& n = f_.vm_networks[i];
    const model::Gateway& g = *n.gateway;
    const std::string vmn = Var("vmn", i), var = Var("gw", i), kind = "VM network gateway";
    const std::string name = n.name + " gateway";
    w_.BeginObject(kind, name);
    Declared(kind, {n.name, name});
    LookupUnder(var, vmn, "Get-SCVMNetworkGateway -VMNetwork " + vmn + " -Name " + Quote(name), kind, name);
    CreateBranch(var, kind, name);
    const std::string desc = MarkedDesc(g.host != model::kNone ? "gateway host " + f_.hosts[g.host].name : "");
    w_.Line(var + " = Add-SCVMNetworkGateway -Name " + Quote(name) + desc + " -VMNetwork " + vmn +
            (g.nat ? " -RequiresNAT" : ""));
    w_.Close();
    w_.Close();
    w_.EndObject(kind, name);
    if (!g.nat) return;

    const std::string nat = Var("nat", i), nat_kind = "NAT connection", nat_name = n.name + " NAT";
    std::string params;
    if (g.external_pool != model::kNone) params += " -ExternalIPPool " + Var("pool", g.external_pool);
    if (i < af_.allocation.gateway_external_ip.size() && af_.allocation.gateway_external_ip[i])
      params += " -ExternalIPAddress " + Quote(af_.allocation.gateway_external_ip[i]->ToString());
    w_.BeginObject(nat_kind, nat_name);
    Declared(nat_kind, {n.name, nat_name});
    LookupUnder(nat, var, "Get-SCNATConnection -VMNetworkGateway " + var + " -Name " + Quote(nat_name), nat_kind,
                nat_name);
    CreateBranch(nat, nat_kind, nat_name);
    w_.Line(nat + " = Add-SCNATConnection -Name " + Quote(nat_name) + MarkedDesc("") + " -VMNetworkGateway " + var +
            params);
    w_.Close();
    w_.Close();
    w_.EndObject(nat_kind, nat_name);
  }

  // Binds each host NIC to its switch's uplink port profile set, then deploys
  // each logical switch on the host over its NICs (New-SCVirtualNetwork).
  void HostAdapters(size_t i) {
    const model::Host& h = f_.hosts[i];
    if (h.nics.empty()) return;
    const std::string kind = "VM host";
    // Switches in order of their first NIC on this host.
    std::vector<uint32_t> switches;
    for (const model::HostNic& nic : h.nics)
      if (nic.logical_switch != model::kNone &&
          std::find(switches.begin(), switches.end(), nic.logical_switch) == switches.end())
        switches.push_back(nic.logical_switch);
    w_.BeginObject(kind, h.name);
    w_.Line("$vmHost = Select-NdOne (Get-SCVMHost -ComputerName " + Quote(h.name) + ") " + Quote(kind) + " " +
            Quote(h.name));
    w_.Open("if ($null -eq $vmHost) {");
    w_.Line("throw 'the host is not managed by VMM: add it (Add-SCVMHost) and run the script again'");
    w_.Close();
    if (!h.description.empty())
      UpdateIf("Test-NdDiffers $vmHost 'Description' " + Quote(h.description), kind, h.name,
               {"Set-SCVMHost -VMHost $vmHost" + Desc(h.description)});
    for (uint32_t sw : switches) w_.Line(DeployVar(sw) + " = @()");
    std::vector<size_t> bound(f_.logical_switches.size(), 0);
    for (const model::HostNic& nic : h.nics) {
      if (nic.logical_switch == model::kNone || nic.uplink_profile == model::kNone) continue;
      const std::string set = UplinkSetVar(nic.logical_switch, nic.uplink_profile);
      const std::string& profile = f_.uplink_port_profiles[nic.uplink_profile].name;
      const model::LogicalSwitch& ls = f_.logical_switches[nic.logical_switch];
      if (std::find(ls.uplinks.begin(), ls.uplinks.end(), nic.uplink_profile) == ls.uplinks.end()) {
        // Sema rejects this; never reference an uplink set the script did not converge.
        w_.Line("throw ('network adapter ''{0}'' uses uplink port profile ''{1}'', which its logical switch does "
                "not list' -f " + Quote(nic.name) + ", " + Quote(profile) + ")");
        continue;
      }
      w_.Line("$adapterName = " + Quote(nic.name));
      w_.Line("$adapter = Select-NdOne (Get-SCVMHostNetworkAdapter -VMHost $vmHost | Where-Object { "
              "(Get-NdValue $_ 'ConnectionName') -eq $adapterName -or $_.Name -eq $adapterName }) "
              "'host network adapter' $adapterName");
      w_.Open("if ($null -eq $adapter) {");
      w_.Line("throw ('the host has no network adapter ''{0}''' -f $adapterName)");
      w_.Close();
      UpdateIf("Test-NdNamesDiffer $adapter 'UplinkPortProfileSet' " + QuoteArray({profile}), "host network adapter",
               h.name + "/" + nic.name,
               {"Set-SCVMHostNetworkAdapter -VMHostNetworkAdapter $adapter -UplinkPortProfileSet " + set});
      if (!nic.description.empty())
        UpdateIf("Test-NdDiffers $adapter 'Description' " + Quote(nic.description), "host network adapter",
                 h.name + "/" + nic.name,
                 {"Set-SCVMHostNetworkAdapter -VMHostNetworkAdapter $adapter" + Desc(nic.description)});
      // A switch without teaming is deployed over one adapter (as in hyperv.ps1).
      if (ls.uplink_mode != model::UplinkMode::NoTeam || bound[nic.logical_switch]++ == 0)
        w_.Line(DeployVar(nic.logical_switch) + " += $adapter");
    }
    for (uint32_t sw : switches) {
      const std::string& name = f_.logical_switches[sw].name;
      const std::string ls = Var("ls", sw), deploy = DeployVar(sw), vkind = "virtual switch on host";
      const std::string vname = h.name + "/" + name;
      w_.Line("$virtualSwitch = Select-NdOne (Get-SCVirtualNetwork -VMHost $vmHost -Name " + Quote(name) + ") " +
              Quote(vkind) + " " + Quote(vname));
      // The switch that carries the host's management NIC gets VMM's management
      // adapter ("Create a virtual network adapter for host management use"),
      // named after the switch as hyperv.ps1's is; VMM gives it the physical
      // NIC's settings, and the declared VLAN.
      const bool management = h.management && h.management->nic != model::kNone &&
                              h.nics[h.management->nic].logical_switch == sw;
      std::string mgmt;
      if (management) {
        mgmt = " -CreateManagementAdapter -ManagementAdapterName " + Quote(name);
        if (h.management->vlan) mgmt += " -ManagementAdapterVLanId " + std::to_string(h.management->vlan);
      }
      w_.Open("if ($null -eq $virtualSwitch) {");
      w_.Open("if (Confirm-NdChange 'create' " + Quote(vkind) + " " + Quote(vname) + ") {");
      w_.Line("New-SCVirtualNetwork -VMHost $vmHost -LogicalSwitch " + ls + " -VMHostNetworkAdapters " + deploy +
              mgmt + " | Out-Null");
      w_.Close();
      w_.Reopen("} else {");
      if (management) {
        // VMM adds a management adapter only when it deploys the switch.
        w_.Open("if (@(Get-SCVirtualNetworkAdapter -VMHost $vmHost | Where-Object { $_.Name -eq " + Quote(name) +
                " }).Count -eq 0) {");
        w_.Line("Write-Warning ('virtual switch ''{0}'' on host ''{1}'' has no management adapter ''{0}''; VMM "
                "creates one only when it deploys the switch' -f " + Quote(name) + ", " + Quote(h.name) + ")");
        w_.Close();
      }
      w_.Line("$add = @(Select-NdMissing " + deploy + " (Get-NdValue $virtualSwitch 'VMHostNetworkAdapters'))");
      UpdateIf("$add.Count -gt 0", vkind, vname,
               {"Set-SCVirtualNetwork -VirtualNetwork $virtualSwitch -LogicalSwitch " + ls +
                " -VMHostNetworkAdapters " + deploy});
      w_.Close();
    }
    w_.EndObject(kind, h.name);
  }

  static std::string DeployVar(uint32_t ls) { return "$deploy" + std::to_string(ls); }

  /// Connects a VM NIC in VMM as hyperv.ps1 configures it on the host: VMM's
  /// adapter of the VM with netdsl's MAC gets the VM network, VM subnet and
  /// port classification, and netdsl's MAC and CA as static addresses (both
  /// from the pools VMM also knows), so that VMM's view and the host agree and
  /// VMM hands neither to another adapter.
  void VmAdapter(size_t v, size_t n) {
    const model::Vm& vm = f_.vms[v];
    const model::VmNic& nic = vm.nics[n];
    if (nic.vm_network == model::kNone || v >= af_.allocation.nics.size() || n >= af_.allocation.nics[v].size()) return;
    const alloc::NicAllocation& a = af_.allocation.nics[v][n];
    const std::string kind = "VM network adapter", name = vm.name + "/" + nic.name;
    const std::string mac = Quote(ps::VmmMac(a.mac)), ca = Quote(a.ca.ToString());
    const std::string family = a.ca.IsV4() ? "IPv4" : "IPv6";
    std::string params = " -VMNetwork " + Var("vmn", nic.vm_network);
    std::vector<std::string> conditions = {
        "Test-NdNamesDiffer $adapter 'VMNetwork' " + QuoteArray({f_.vm_networks[nic.vm_network].name})};
    if (nic.vm_subnet != model::kNone) {
      params += " -VMSubnet " + Var("vms", nic.vm_subnet);
      conditions.push_back("Test-NdNamesDiffer $adapter 'VMSubnet' " + QuoteArray({f_.vm_subnets[nic.vm_subnet].name}));
    }
    if (nic.classification != model::kNone) {
      params += " -PortClassification " + Var("pc", nic.classification);
      conditions.push_back("Test-NdNamesDiffer $adapter 'PortClassification' " +
                           QuoteArray({f_.port_classifications[nic.classification].name}));
    }
    // The addresses are splatted: pscheck's grammar splits a parameter name
    // with a digit (-IPv4Addresses) in two; the lit test checks these keys
    // against the cmdlet schema instead.
    params += " -MACAddressType 'Static' -MACAddress " + mac + " @addressing";
    conditions.push_back("Test-NdDiffers $adapter 'MACAddressType' 'Static'");
    conditions.push_back("Test-NdDiffers $adapter '" + family + "AddressType' 'Static'");
    conditions.push_back("Test-NdDiffers $adapter '" + family + "Addresses' @(" + ca + ")");
    w_.BeginObject(kind, name);
    w_.Line("$adapter = Find-NdVMAdapter " + Quote(vm.name) + " " + mac);
    w_.Open("if ($null -eq $adapter) {");
    w_.Line("Write-Warning ('VM network adapter ''{0}'': VMM has no adapter of VM ''{1}'' with MAC address {2} yet; "
            "run hyperv.ps1 on host ''{3}'' (it creates the adapter with this MAC), refresh the VM in VMM and run "
            "this script again' -f " + Quote(name) + ", " + Quote(vm.name) + ", " + mac + ", " +
            Quote(f_.hosts[vm.host].name) + ")");
    w_.Reopen("} else {");
    w_.Line("$addressing = @{ " + family + "AddressType = 'Static'; " + family + "Addresses = @(" + ca + ") }");
    UpdateIf(Either(conditions), kind, name, {"Set-SCVirtualNetworkAdapter -VirtualNetworkAdapter $adapter" + params});
    w_.Close();
    w_.EndObject(kind, name);
  }

  const alloc::AllocatedFabric& af_;
  const model::Fabric& f_;
  ps::ScriptWriter w_;
};

}  // namespace

std::string EmitFabricScript(const alloc::AllocatedFabric& fabric) { return FabricEmitter(fabric).Emit(); }

}  // namespace netdsl::backends
