// Hand-built per-host IR for the Linux backend units (the seed demo's host02
// and variations), so the tests do not depend on the lowering.
#pragma once

#include <string>

#include "compiler/lower/host_ir.h"

namespace netdsl::backends::testing {

inline net::IpAddress Ip(const char* text) { return *net::ParseIp(text); }
inline net::Prefix Pfx(const char* text) { return *net::ParsePrefix(text); }
inline net::MacAddress Mac(const char* text) { return *net::ParseMac(text); }

/// The seed demo's host02: a teamed switch (switch independent, Hyper-V
/// port) over `Ethernet`, the tenant network's PA, one NVGRE subnet `web`
/// (VSID 5001) with winserver10's NIC, and one remote NIC on host01.
inline ir::HostIr SeedHost02() {
  ir::HostIr h;
  h.host = "host02";
  h.host_group = "Lenovo";
  h.underlay_mtu = 1500;
  h.generation = 3;
  h.source_hash = "00ff";
  ir::Switch sw;
  sw.name = "test logical switch";
  sw.bridge_ifname = "nd-sw-3f2a";
  sw.bond_ifname = "nd-bo-3f2a";
  sw.uplink_mode = ir::UplinkMode::Team;
  sw.sriov = true;
  sw.teaming = ir::Teaming{ir::TeamingMode::SwitchIndependent, ir::LoadBalancing::HyperVPort};
  sw.uplinks.push_back({"Ethernet", "uplink port profile", {0}});
  h.switches.push_back(sw);

  ir::ProviderAddress pa;
  pa.logical_network = "Tenant";
  pa.ip = Ip("192.168.0.11");
  pa.prefix_length = 24;
  pa.switch_name = sw.name;
  h.provider_addresses.push_back(pa);

  h.routing_domains.push_back({1001, "tenant A", "nd-vrf1001", 1001});

  ir::Segment seg;
  seg.vsid = 5001;
  seg.rdid = 1001;
  seg.vm_network = "tenant A";
  seg.vm_subnet = "web";
  seg.isolation = ir::Isolation::Nvgre;
  seg.prefix = Pfx("10.0.1.0/24");
  seg.gateway = Ip("10.0.1.1");
  seg.mtu = 1458;
  seg.switch_name = sw.name;
  seg.bridge_ifname = "nd-br5001";
  seg.tunnel_ifname = "nd-gt5001";
  seg.local_pa = pa.ip;
  seg.remote_pas = {Ip("192.168.0.10")};
  h.segments.push_back(seg);

  ir::PortPolicy tenant;
  tenant.profile = "Tenant";
  tenant.ipsec_offload = true;
  tenant.dhcp_guard = true;
  tenant.router_guard = true;
  tenant.guest_specified_ip = true;
  tenant.minimum_weight = 1;
  tenant.maximum = 1'000'000'000;
  h.policies.push_back(tenant);

  ir::Port port;
  port.id = 1;
  port.vm = "winserver10";
  port.nic = "nic0";
  port.ifname = "nd-p1";
  port.switch_name = sw.name;
  port.classification = "Tenant";
  port.vm_network = "tenant A";
  port.vm_subnet = "web";
  port.vsid = 5001;
  port.rdid = 1001;
  port.mac = Mac("00:1d:d8:b7:1c:00");
  port.ca = Ip("10.0.1.10");
  port.prefix_length = 24;
  port.gateway = Ip("10.0.1.1");
  port.mtu = 1458;
  port.policy = 0;
  h.ports.push_back(port);

  ir::LookupRecord local;
  local.vsid = 5001;
  local.ca = port.ca;
  local.mac = port.mac;
  local.pa = pa.ip;
  local.host = "host02";
  local.vm = "winserver10";
  local.nic = "nic0";
  local.local = true;
  local.port_id = 1;
  ir::LookupRecord remote;
  remote.vsid = 5001;
  remote.ca = Ip("10.0.1.11");
  remote.mac = Mac("00:1d:d8:b7:1c:01");
  remote.pa = Ip("192.168.0.10");
  remote.host = "host01";
  remote.vm = "web01";
  remote.nic = "nic0";
  h.lookup_records = {local, remote};

  h.customer_routes.push_back({1001, Pfx("10.0.1.0/24"), ir::CustomerRoute::Kind::OnLink, 5001, std::nullopt, ""});
  return h;
}

/// host02 with the web subnet on VXLAN (VSID 5001) and two remote hosts.
inline ir::HostIr VxlanHost() {
  ir::HostIr h = SeedHost02();
  ir::Segment& seg = h.segments[0];
  seg.isolation = ir::Isolation::Vxlan;
  seg.tunnel_ifname = "nd-vx5001";
  seg.mtu = 1450;
  seg.remote_pas = {Ip("192.168.0.10"), Ip("192.168.0.12")};
  h.ports[0].mtu = 1450;
  ir::LookupRecord r2 = h.lookup_records[1];
  r2.ca = Ip("10.0.1.12");
  r2.mac = Mac("00:1d:d8:b7:1c:02");
  r2.vm = "web02";
  h.lookup_records.push_back(r2);
  return h;
}

/// A NAT duty for `vm_network` (without the optional external-side fields).
inline ir::NatRule Nat(const char* vm_network, uint32_t rdid, const char* external_ip,
                       std::vector<net::Prefix> inside) {
  ir::NatRule nat;
  nat.vm_network = vm_network;
  nat.rdid = rdid;
  nat.external_ip = Ip(external_ip);
  nat.external_pool = "test IP pool";
  nat.inside_prefixes = std::move(inside);
  return nat;
}

/// A second subnet `db` (VSID 6001) of the same routing domain on the same
/// host, with one port: the host now routes between its subnets.
inline void AddDbSubnet(ir::HostIr& h) {
  ir::Segment seg = h.segments[0];
  seg.vsid = 6001;
  seg.vm_subnet = "db";
  seg.prefix = Pfx("10.0.2.0/24");
  seg.gateway = Ip("10.0.2.1");
  seg.bridge_ifname = "nd-br6001";
  seg.tunnel_ifname = "nd-gt6001";
  seg.remote_pas = {};
  h.segments.push_back(seg);
  ir::Port port = h.ports[0];
  port.id = 2;
  port.vm = "db01";
  port.ifname = "nd-p2";
  port.vm_subnet = "db";
  port.vsid = 6001;
  port.mac = Mac("00:1d:d8:b7:1c:02");
  port.ca = Ip("10.0.2.10");
  port.gateway = Ip("10.0.2.1");
  h.ports.push_back(port);
  h.customer_routes.push_back({1001, Pfx("10.0.2.0/24"), ir::CustomerRoute::Kind::OnLink, 6001, std::nullopt, ""});
}

/// SeedHost02 with the `db` subnet, NATing both subnets of "tenant A" to
/// 192.168.10.41/24 on the host's first switch (untagged, no external gateway).
inline ir::HostIr NatGatewayHost() {
  ir::HostIr h = SeedHost02();
  AddDbSubnet(h);
  ir::NatRule rule = Nat("tenant A", 1001, "192.168.10.41", {Pfx("10.0.1.0/24"), Pfx("10.0.2.0/24")});
  rule.external_switch = h.switches[0].name;
  rule.external_prefix_length = 24;
  h.nat_rules.push_back(rule);
  return h;
}

}  // namespace netdsl::backends::testing
