// Writes the PowerShell scripts of the unit fixtures into a directory, for
// `unit.powershell.pscheck` (check_scripts.sh), which runs pscheck and the
// command allow-list over them. A tool, not a test: the checks are in the script.
// usage: powershell_fixture_scripts DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "backends/powershell/powershell_backend.h"
#include "fixtures.h"

using namespace netdsl;
using namespace netdsl::backends;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: powershell_fixture_scripts DIR\n");
    return 64;
  }
  namespace fs = std::filesystem;
  int written = 0;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream out(fs::path(argv[1]) / name, std::ios::binary);
    out << text;
    out.close();
    if (!out) {
      std::fprintf(stderr, "powershell_fixture_scripts: cannot write %s in %s\n", name.c_str(), argv[1]);
      std::exit(1);
    }
    ++written;
  };
  write("seed-fabric.ps1", EmitFabricScript(testing::SeedDemoFabric()));
  write("seed-host02-hyperv.ps1", EmitHyperVScript(testing::SeedDemoHost02()));
  write("seed-gateway-hyperv.ps1", EmitHyperVScript(testing::SeedDemoGateway()));
  write("hostile-fabric.ps1", EmitFabricScript(testing::HostileFabric()));
  write("hostile-hyperv.ps1", EmitHyperVScript(testing::HostileHost()));
  ir::HostIr set = testing::SeedDemoGateway();
  set.switches[0].uplink_mode = model::UplinkMode::EmbeddedTeam;
  set.switches[0].teaming = model::UplinkPortProfile::Teaming{model::TeamingMode::SwitchIndependent,
                                                               model::LoadBalancing::HyperVPort};
  write("set-hyperv.ps1", EmitHyperVScript(set));
  write("variant-fabric.ps1", EmitFabricScript(testing::VariantFabric()));
  write("variant-hyperv.ps1", EmitHyperVScript(testing::VariantHost()));
  // Names with Unicode bidi controls: quoted as `('a' + [char]0x202E + 'b')` expressions.
  ir::HostIr bidi = testing::SeedDemoHost02();
  bidi.ports[0].vm = "win\xE2\x80\xAEserver";
  bidi.lookup_records[0].vm = bidi.ports[0].vm;
  bidi.switches[0].name = "sw\xE2\x81\xA6itch";
  bidi.ports[0].switch_name = bidi.switches[0].name;
  write("bidi-hyperv.ps1", EmitHyperVScript(bidi));
  alloc::AllocatedFabric bidi_fabric = testing::SeedDemoFabric();
  bidi_fabric.fabric.port_classifications[0].description = "tenant \xE2\x80\xAE" "adapters";
  bidi_fabric.fabric.logical_switches[0].name = "test \xE2\x81\xA7switch";
  write("bidi-fabric.ps1", EmitFabricScript(bidi_fabric));
  std::printf("%d\n", written);
  return 0;
}
