// Linux backend safety: hostile names never break linux.batch or linux.yaml,
// and unsafe or clashing interface names are refused, naming the object.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "backends/linux/linux_backend.h"
#include "tests/unit/linux_backend/fixtures.h"
#include "tests/unit/linux_backend/helpers.h"

using namespace netdsl;
using namespace netdsl::backends;
using namespace netdsl::backends::testing;

TEST_CASE("hostile names never break the yaml or the batch") {
  const std::string vm = "a#b\nc; rm -rf /";
  const std::string nic = "n\"i'c`$(x)\\";
  const std::string sw = "sw'\n# x\r";
  const std::string host = "h#1\n- x: y";
  ir::HostIr h = VxlanHost();
  AddDbSubnet(h);
  h.host = host;
  h.source_hash = "\"quoted\"";
  h.ports[0].vm = vm;
  h.ports[0].nic = nic;
  h.switches[0].name = sw;
  for (ir::Port& p : h.ports) p.switch_name = sw;
  for (ir::Segment& s : h.segments) {
    s.switch_name = sw;
    s.vm_network = "net\n#";
  }
  h.provider_addresses[0].switch_name = sw;
  h.routing_domains[0].vm_network = "net\n#";
  h.nat_rules.push_back(Nat("nat'\"#\n", 1001, "192.168.10.41", {Pfx("10.0.1.0/24")}));
  LinuxArtifacts a = Emit(h);

  YAML::Node y = YAML::Load(a.yaml);
  CHECK(y["host"].as<std::string>() == host);
  CHECK(y["source_hash"].as<std::string>() == "\"quoted\"");
  CHECK(y["format"].as<int>() == 1);
  CHECK(Link(y, "nd-p1")["master"].as<std::string>() == "nd-br5001");
  bool saw_comment = false;
  for (const char* table : {"nftables", "nftables_nat"})
    for (const YAML::Node& r : y[table]["rules"]) {
      std::string comment = r["comment"].as<std::string>();
      CHECK(comment.find_first_of("#\n\r\"'\\;`$") == std::string::npos);
      // Port guard comments name the guard kind only (ports are set elements).
      saw_comment |= comment == "mac spoofing guard";
    }
  CHECK(saw_comment);

  const std::vector<std::string> known = {"ip ", "bridge ", "tc ", "nft ", "sysctl -qw net/ipv4/conf/nd"};
  for (const std::string& line : Lines(a.batch)) {
    CAPTURE(line);
    if (line.empty()) continue;
    if (line.rfind("# ", 0) == 0) {
      CHECK(line.find_first_of("#", 1) == std::string::npos);
      CHECK(line.find_first_of("\r'\"\\;$") == std::string::npos);
      continue;
    }
    bool ok = std::any_of(known.begin(), known.end(), [&](const std::string& k) { return line.rfind(k, 0) == 0; });
    CHECK(ok);
    CHECK(line.find('#') == std::string::npos);
    CHECK(line.find("rm ") == std::string::npos);
  }
  CHECK(a.batch.find("# vm a%23b%0Ac%3B%20rm%20-rf%20%2F/n%22i%27c%60%24%28x%29%5C\n") != std::string::npos);
}

TEST_CASE("host nic names that look like yaml keywords or numbers stay strings") {
  ir::HostIr h = SeedHost02();
  h.switches[0].uplinks = {{"null", "p", {0}}, {"true", "p", {0}}, {"1", "p", {0}}, {"0x1f", "p", {0}}, {".inf", "p", {0}}};
  YAML::Node y = YAML::Load(Emit(h).yaml);
  std::vector<std::string> names;
  for (const YAML::Node& a : y["adopted"]) {
    CHECK(a["name"].Tag() == "!");  // double-quoted: a plain-scalar resolver never sees it
    names.push_back(a["name"].as<std::string>());
  }
  CHECK(names == std::vector<std::string>{".inf", "0x1f", "1", "null", "true"});
}

TEST_CASE("unsafe or clashing interface names are refused, naming the object") {
  auto refused = [](ir::HostIr h, const std::string& expect) {
    std::string why = Refusal(h);
    CAPTURE(why);
    CHECK_FALSE(why.empty());
    CHECK(why.find(expect) != std::string::npos);
    CHECK(why.find("host `host02`") == 0);
    CHECK(EmitLinuxYaml(h).empty());
    CHECK(EmitLinuxBatch(h).empty());
    CHECK(CheckLinuxHostIr(h) == why);
  };
  ir::HostIr h = SeedHost02();
  CHECK(CheckLinuxHostIr(h).empty());

  h = SeedHost02();
  h.ports[0].ifname = "nd p1";
  refused(h, "interface name `nd p1` of port `winserver10/nic0` contains a byte outside");
  h = SeedHost02();
  h.ports[0].ifname = "nd-p1#x";
  refused(h, "`nd-p1#x`");
  h = SeedHost02();
  h.ports[0].ifname = "nd-p1\nip link del";
  refused(h, "`nd-p1\\x0aip link del`");
  h = SeedHost02();
  h.ports[0].ifname = "nd-p1234567890123";
  refused(h, "is 17 bytes long");
  h = SeedHost02();
  h.ports[0].ifname = "nd-p12345678901";  // 15 bytes: the guest end would be 16
  refused(h, "of the guest end of port");
  h = SeedHost02();
  h.switches[0].bridge_ifname = "br0";
  refused(h, "does not start with `nd`");
  h = SeedHost02();
  h.switches[0].bond_ifname = "nd-sw-3f2a";
  refused(h, "is used twice");
  h = SeedHost02();
  h.switches[0].uplinks[0].nic = "Ethernet 2";
  refused(h, "host nic `Ethernet 2`");
  h = SeedHost02();
  h.switches[0].uplinks.push_back(h.switches[0].uplinks[0]);
  refused(h, "attached twice");
  h = SeedHost02();
  h.switches[0].uplinks[0].nic = "nd-p1g";  // a host NIC named like a port's guest end
  refused(h, "`nd-p1g` of the guest end of port `winserver10/nic0` is used twice");
  h = SeedHost02();
  AddDbSubnet(h);
  h.routing_domains[0].rdid = 254;
  h.routing_domains[0].table = 254;
  for (ir::Segment& s : h.segments) s.rdid = 254;
  refused(h, "reserved routing table 254");
  h = SeedHost02();
  h.ports[0].vsid = 7777;
  refused(h, "vsid 7777");
  h = SeedHost02();
  h.ports[0].switch_name = "other";
  h.ports[0].vsid = 0;
  refused(h, "switch `other`");
  h = SeedHost02();
  h.segments[0].bridge_ifname = "nd-br'5001";
  refused(h, "`nd-br'5001`");
}
