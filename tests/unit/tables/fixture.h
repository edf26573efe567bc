// Hand-built per-host IR for the table image tests: two tenants reusing the
// same customer address space, a routed subnet, a gateway and a NAT host.
#pragma once

#include <string>

#include "backends/tables/table_writer.h"
#include "common/net/address.h"
#include "compiler/lower/host_ir.h"

namespace netdsl::testing {

/// The image of `host`, or "" when the writer refuses it (ImageRefusal says why).
inline std::string ImageBytes(const ir::HostIr& host) {
  llvm::Expected<std::string> image = backends::WriteTableImage(host);
  if (image) return std::move(*image);
  llvm::consumeError(image.takeError());
  return "";
}

/// Why the writer refuses `host`; "" when it writes it.
inline std::string ImageRefusal(const ir::HostIr& host) {
  llvm::Expected<std::string> image = backends::WriteTableImage(host);
  return image ? std::string() : llvm::toString(image.takeError());
}

inline net::IpAddress Ip(const char* text) { return *net::ParseIp(text); }
inline net::Prefix Pfx(const char* text) { return *net::ParsePrefix(text); }
inline net::MacAddress Mac(const char* text) { return *net::ParseMac(text); }

inline ir::LookupRecord Record(uint32_t vsid, const char* ca, const char* mac, const char* pa, const char* host,
                               const char* vm, uint32_t local_port = 0) {
  ir::LookupRecord r;
  r.vsid = vsid;
  r.ca = Ip(ca);
  r.mac = Mac(mac);
  r.pa = Ip(pa);
  r.host = host;
  r.vm = vm;
  r.nic = "nic0";
  r.local = local_port != 0;
  r.port_id = local_port;
  return r;
}

/// host01: ports 1, 2 (tenant A web), 3 (tenant B web, same addresses as tenant A);
/// remote VMs on host02; tenant A also has subnet db (vsid 6001) and a default route
/// through the gateway host.
inline ir::HostIr SampleHost() {
  ir::HostIr h;
  h.host = "host01";
  h.host_group = "Lenovo";
  h.generation = 7;
  h.source_hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

  ir::PortPolicy tenant;
  tenant.profile = "Tenant";
  tenant.dhcp_guard = true;
  tenant.router_guard = true;
  tenant.guest_specified_ip = true;
  tenant.minimum_weight = 1;
  tenant.maximum = 1000000000;
  h.policies.push_back(tenant);

  h.routing_domains.push_back({1, "tenant A", "nd-vrf1", 1});
  h.routing_domains.push_back({2, "tenant B", "nd-vrf2", 2});

  auto segment = [](uint32_t vsid, uint32_t rdid, const char* network, const char* subnet, const char* prefix,
                    const char* gw, ir::Isolation iso) {
    ir::Segment s;
    s.vsid = vsid;
    s.rdid = rdid;
    s.vm_network = network;
    s.vm_subnet = subnet;
    s.isolation = iso;
    s.prefix = Pfx(prefix);
    s.gateway = Ip(gw);
    s.switch_name = "test logical switch";
    s.bridge_ifname = "nd-br" + std::to_string(vsid);
    s.tunnel_ifname = "nd-vx" + std::to_string(vsid);
    s.local_pa = Ip("192.168.0.10");
    s.remote_pas = {Ip("192.168.0.11")};
    return s;
  };
  h.segments.push_back(segment(5001, 1, "tenant A", "web", "10.0.1.0/24", "10.0.1.1", ir::Isolation::Nvgre));
  h.segments.push_back(segment(7001, 2, "tenant B", "web", "10.0.1.0/24", "10.0.1.1", ir::Isolation::Vxlan));

  auto port = [](uint32_t id, const char* vm, uint32_t vsid, uint32_t rdid, const char* network, const char* ca,
                 const char* mac) {
    ir::Port p;
    p.id = id;
    p.vm = vm;
    p.nic = "nic0";
    p.ifname = "nd-p" + std::to_string(id);
    p.switch_name = "test logical switch";
    p.classification = "Tenant";
    p.vm_network = network;
    p.vm_subnet = "web";
    p.vsid = vsid;
    p.rdid = rdid;
    p.mac = Mac(mac);
    p.ca = Ip(ca);
    p.prefix_length = 24;
    p.gateway = Ip("10.0.1.1");
    p.policy = 0;
    return p;
  };
  h.ports.push_back(port(1, "web1", 5001, 1, "tenant A", "10.0.1.10", "00:1d:d8:b7:1c:00"));
  h.ports.push_back(port(2, "web2", 5001, 1, "tenant A", "10.0.1.11", "00:1d:d8:b7:1c:01"));
  h.ports.push_back(port(3, "b-web1", 7001, 2, "tenant B", "10.0.1.10", "00:1d:d8:b7:1c:02"));

  h.lookup_records = {
      Record(5001, "10.0.1.10", "00:1d:d8:b7:1c:00", "192.168.0.10", "host01", "web1", 1),
      Record(5001, "10.0.1.11", "00:1d:d8:b7:1c:01", "192.168.0.10", "host01", "web2", 2),
      Record(5001, "10.0.1.20", "00:1d:d8:b7:1c:10", "192.168.0.11", "host02", "web3"),
      Record(6001, "10.0.2.20", "00:1d:d8:b7:1c:11", "192.168.0.11", "host02", "db1"),
      Record(7001, "10.0.1.10", "00:1d:d8:b7:1c:02", "192.168.0.10", "host01", "b-web1", 3),
      Record(7001, "10.0.1.30", "00:1d:d8:b7:1c:12", "192.168.0.11", "host02", "b-web2"),
  };

  ir::CustomerRoute def;
  def.rdid = 1;
  def.prefix = Pfx("0.0.0.0/0");
  def.kind = ir::CustomerRoute::Kind::Gateway;
  def.next_hop = Ip("192.168.0.5");
  def.via_host = "gateway";
  ir::CustomerRoute web{1, Pfx("10.0.1.0/24"), ir::CustomerRoute::Kind::OnLink, 5001, {}, ""};
  ir::CustomerRoute db{1, Pfx("10.0.2.0/24"), ir::CustomerRoute::Kind::OnLink, 6001, {}, ""};
  ir::CustomerRoute v6{1, Pfx("fd00:1::/64"), ir::CustomerRoute::Kind::OnLink, 5001, {}, ""};
  ir::CustomerRoute b_web{2, Pfx("10.0.1.0/24"), ir::CustomerRoute::Kind::OnLink, 7001, {}, ""};
  h.customer_routes = {def, web, db, v6, b_web};
  return h;
}

/// The gateway host: NAT for tenant A out of the external pool.
inline ir::HostIr GatewayHost() {
  ir::HostIr h = SampleHost();
  h.host = "gateway";
  ir::NatRule nat;
  nat.vm_network = "tenant A";
  nat.rdid = 1;
  nat.external_ip = Ip("192.168.10.40");
  nat.external_pool = "test IP pool";
  nat.inside_prefixes = {Pfx("10.0.1.0/24"), Pfx("10.0.2.0/24")};
  h.nat_rules.push_back(nat);
  return h;
}

}  // namespace netdsl::testing
