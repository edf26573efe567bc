// Sema entry point and the machinery every construct shares: schema
// validation of a block, name tables, resolution with "did you mean".
#include "compiler/sema/sema.h"

#include <algorithm>
#include <cassert>

#include "compiler/sema/checker.h"

namespace netdsl {

std::optional<model::Fabric> Check(const ast::Program& program, DiagnosticEngine& diags) {
  sema::Checker c(diags);
  unsigned errors_before = diags.ErrorCount();
  for (const ast::File& file : program.files) c.f_.input_files.push_back(file.path);
  // Declare every object first so that references may point forward and across files.
  c.DeclareAll(program);
  c.ResolveHosts();
  c.ResolveManagement();
  c.ResolveNetworks();
  c.ResolveMacPools();
  c.ResolveVmNetworks();
  c.ResolveProfiles();
  c.ResolveSwitches();
  c.ResolveVms();
  c.ReadDescriptions();
  c.ComputeReach();
  c.CheckNetworkRules();
  c.CheckPoolRules();
  c.CheckVmNetworkRules();
  c.CheckSwitchRules();
  c.CheckVmRules();
  c.CheckManagementRules();
  if (diags.ErrorCount() != errors_before || diags.HasErrors()) return std::nullopt;
  return std::move(c.f_);
}

}  // namespace netdsl

namespace netdsl::sema {

const ast::Property* Props::GetProperty(std::string_view key) const {
  if (!spec) return nullptr;
  for (size_t i = 0; i < spec->keys.size(); ++i)
    if (key == spec->keys[i].key) return values[i];
  return nullptr;
}

bool Props::Present(std::string_view key) const {
  if (!block) return false;
  for (const ast::Property& p : block->properties)
    if (p.key == key) return true;
  return false;
}

const ast::Value* Props::Get(std::string_view key) const {
  const ast::Property* p = GetProperty(key);
  return p ? &p->value : nullptr;
}

uint32_t NameTable::Insert(const std::string& name, uint32_t id) {
  auto [it, inserted] = map_.try_emplace(name, id);
  return inserted ? kNone : it->second;
}

uint32_t NameTable::Find(std::string_view name) const {
  auto it = map_.find(name);
  return it == map_.end() ? kNone : it->second;
}

std::vector<std::string_view> NameTable::Names() const {
  std::vector<std::string_view> out;
  out.reserve(map_.size());
  for (const auto& [name, id] : map_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

void Checker::ReadDescriptions() {
  // Every props vector is parallel to its model vector (pushed together).
  auto read = [&](auto& objects, const std::vector<Props>& props) {
    for (size_t i = 0; i < objects.size() && i < props.size(); ++i)
      objects[i].description = Text(props[i].Get("description"));
  };
  read(f_.host_groups, host_group_props_);
  read(f_.hosts, host_props_);
  for (size_t h = 0; h < f_.hosts.size() && h < host_nic_props_.size(); ++h) read(f_.hosts[h].nics, host_nic_props_[h]);
  read(f_.logical_networks, ln_props_);
  read(f_.sites, site_props_);
  read(f_.ip_pools, pool_props_);
  read(f_.mac_pools, mac_pool_props_);
  read(f_.vm_networks, vm_network_props_);
  read(f_.vm_subnets, vm_subnet_props_);
  read(f_.vms, vm_props_);
  for (size_t s = 0; s < f_.logical_switches.size() && s < virtual_port_props_.size(); ++s)
    read(f_.logical_switches[s].virtual_ports, virtual_port_props_[s]);
}

void Checker::DeclareAll(const ast::Program& program) {
  size_t vms = 0;
  for (const ast::File& file : program.files)
    for (const ast::Block& b : file.blocks) vms += b.kind == "vm";
  vms_.reserve(vms);
  f_.vms.reserve(vms);
  vm_props_.reserve(vms);
  vm_nic_props_.reserve(vms);
  for (const ast::File& file : program.files) {
    for (const ast::Block& b : file.blocks) {
      const BlockSpec* spec = ChildSpec("", b);
      if (!spec) continue;
      std::string_view k = b.kind;
      if (k == "host_group") DeclareHostGroup(b, kNone);
      else if (k == "host") DeclareHost(b, kNone);
      else if (k == "logical_network") DeclareLogicalNetwork(b);
      else if (k == "mac_pool") DeclareMacPool(b);
      else if (k == "vm_network") DeclareVmNetwork(b);
      else if (k == "port_classification") DeclareClassification(b);
      else if (k == "port_profile") DeclarePortProfile(b);
      else if (k == "uplink_port_profile") DeclareUplinkProfile(b);
      else if (k == "logical_switch") DeclareSwitch(b);
      else if (k == "vm") DeclareVm(b);
    }
  }
}

const BlockSpec* Checker::ChildSpec(std::string_view parent_kind, const ast::Block& child) {
  const BlockSpec* spec = FindSpec(parent_kind, child.kind);
  if (spec) return spec;
  std::vector<std::string_view> kinds;
  for (const BlockSpec* s : ChildSpecs(parent_kind)) kinds.push_back(s->kind);
  std::string where = parent_kind.empty() ? "at the top level" : "inside `" + std::string(parent_kind) + "`";
  std::string msg = "unknown block kind `" + child.kind + "` " + where;
  if (kinds.empty()) msg = "`" + std::string(parent_kind) + "` blocks contain no blocks; `" + child.kind + "` is not allowed here";
  else msg += DidYouMean(child.kind, kinds);
  diags_.Report(DiagKind::UnknownBlockKind, child.kind_range, msg);
  return nullptr;
}

llvm::SMRange Checker::NameRangeOf(const ast::Block& block) {
  if (block.label) {
    llvm::SMRange r = block.label->range;
    if (block.name_range) r.End = block.name_range->range.End;
    return r;
  }
  return block.kind_range;
}

llvm::SMRange Checker::KeyRange(const ast::Block& block, std::string_view key) {
  for (const ast::Property& p : block.properties)
    if (p.key == key) return p.value.range;
  return NameRangeOf(block);
}

std::string Checker::Describe(const Props& props) {
  std::string what = props.spec ? props.spec->what : "block";
  // Names and other labels (a site subnet's prefix) alike, as written.
  if (!props.block || !props.block->label) return what;
  std::string name = props.block->label->text;
  if (const auto& r = props.block->name_range) {
    auto pad = [&](uint64_t n) {
      std::string d = std::to_string(n);
      return d.size() < r->width ? std::string(r->width - d.size(), '0') + d : d;
    };
    name += "[" + pad(r->first) + ".." + pad(r->last) + "]";
  }
  return what + " `" + name + "`";
}

Props Checker::Validate(const ast::Block& block, const BlockSpec& spec) {
  Props props;
  props.block = &block;
  props.spec = &spec;
  assert(spec.keys.size() <= Props::kMaxKeys);
  std::string kind = spec.kind;

  // Label.
  switch (spec.label) {
    case LabelRule::None:
      if (block.label)
        diags_.Report(DiagKind::InvalidLabel, block.label->range, "`" + kind + "` blocks take no name; remove `" +
                                                                      block.label->text + "`");
      break;
    case LabelRule::Name:
    case LabelRule::OptionalName:
      if (!block.label) {
        if (spec.label == LabelRule::Name)
          diags_.Report(DiagKind::InvalidLabel, block.kind_range, "`" + kind + "` needs a name: `" + kind + " NAME { ... }`");
      } else if (!block.label->IsName()) {
        diags_.Report(DiagKind::InvalidLabel, block.label->range,
                      "expected a name for `" + kind + "`, found " + DescribeFound(*block.label));
      } else if (block.label->text.empty()) {
        diags_.Report(DiagKind::InvalidLabel, block.label->range, "`" + kind + "` name must not be empty");
      }
      break;
    case LabelRule::Prefix:
      if (!block.label)
        diags_.Report(DiagKind::InvalidLabel, block.kind_range, "`" + kind + "` needs a CIDR prefix: `" + kind + " 10.0.0.0/24;`");
      else if (block.label->kind != ast::Value::Kind::Prefix)
        diags_.Report(DiagKind::InvalidLabel, block.label->range,
                      "expected a CIDR prefix for `" + kind + "`, found " + DescribeFound(*block.label));
      break;
  }
  if (block.name_range && !spec.allow_name_range)
    diags_.Report(DiagKind::InvalidNameRange, block.name_range->range,
                  "name ranges `[first..last]` are only allowed on hosts, not on `" + kind + "`");

  // Properties.
  for (const ast::Property& p : block.properties) {
    const KeySpec* key = FindKey(spec, p.key);
    if (!key) {
      std::vector<std::string_view> keys;
      for (const KeySpec& k : spec.keys) keys.push_back(k.key);
      // A key that names a block kind of this context is a common slip (`teaming = ...`).
      std::string msg = "unknown property `" + p.key + "` in " + Describe(props);
      if (FindSpec(kind, p.key)) msg += "; `" + p.key + "` is a block: `" + p.key + " { ... }`";
      else msg += DidYouMean(p.key, keys);
      diags_.Report(DiagKind::UnknownProperty, p.key_range, msg);
      continue;
    }
    size_t index = key - spec.keys.data();
    bool seen_before = false;
    for (const ast::Property& q : block.properties) {
      if (&q == &p) break;
      if (q.key == p.key) {
        diags_.Report(DiagKind::DuplicateProperty, p.key_range, "duplicate property `" + p.key + "` in " + Describe(props))
            .Note(q.key_range, "`" + p.key + "` first set here");
        seen_before = true;
        break;
      }
    }
    if (seen_before) continue;
    if (!HasType(p.value, key->type)) {
      diags_.Report(DiagKind::PropertyTypeMismatch, p.value.range,
                    "`" + p.key + "` expects " + DescribeExpected(*key) + ", found " + DescribeFound(p.value));
      continue;
    }
    if (key->type == ValueType::Enum) {
      bool ok = false;
      std::vector<std::string_view> options;
      for (const char* e : key->enum_values) {
        options.push_back(e);
        if (p.value.text == e) ok = true;
      }
      if (!ok) {
        diags_.Report(DiagKind::InvalidEnumValue, p.value.range,
                      "unknown " + p.key + " `" + p.value.text + "`; expected " + DescribeExpected(*key) +
                          DidYouMean(p.value.text, options));
        continue;
      }
    }
    props.values[index] = &p;
  }
  for (size_t i = 0; i < spec.keys.size(); ++i) {
    if (!spec.keys[i].required) continue;
    bool present = std::any_of(block.properties.begin(), block.properties.end(),
                               [&](const ast::Property& p) { return p.key == spec.keys[i].key; });
    if (!present)
      diags_.Report(DiagKind::MissingRequiredProperty, NameRangeOf(block),
                    Describe(props) + " has no `" + spec.keys[i].key + "`; add `" + spec.keys[i].key + " = ...;`");
  }

  // Child blocks: unknown kinds and repeated single blocks.
  for (size_t i = 0; i < block.blocks.size(); ++i) {
    const ast::Block& child = block.blocks[i];
    const BlockSpec* cs = ChildSpec(kind, child);
    if (!cs || !cs->at_most_once) continue;
    for (size_t j = 0; j < i; ++j) {
      if (block.blocks[j].kind == child.kind) {
        diags_.Report(DiagKind::DuplicateProperty, child.kind_range,
                      "duplicate `" + child.kind + "` block in " + Describe(props))
            .Note(block.blocks[j].kind_range, "first `" + child.kind + "` block here");
        break;
      }
    }
  }
  return props;
}

void Checker::ReportDuplicate(const std::string& name, llvm::SMRange range, llvm::SMRange first, const char* what,
                              std::string_view scope) {
  diags_.Report(DiagKind::DuplicateName, range, "duplicate " + std::string(what) + " `" + name + "`" + std::string(scope))
      .Note(first, std::string(what) + " `" + name + "` first defined here");
}

uint32_t Checker::Resolve(const ast::Value& name, const NameTable& table, const char* what,
                          std::string_view scope_what, std::string_view scope_name) {
  uint32_t id = table.Find(name.text);
  if (id != kNone) return id;
  std::string scope;
  if (!scope_what.empty()) scope = " in " + std::string(scope_what) + " `" + std::string(scope_name) + "`";
  diags_.Report(DiagKind::UnresolvedName, name.range,
                "unknown " + std::string(what) + " `" + name.text + "`" + scope + DidYouMean(name.text, table.Names()));
  return kNone;
}

std::optional<uint64_t> Checker::IntegerIn(const ast::Value* v, uint64_t lo, uint64_t hi, DiagKind kind,
                                           const std::string& noun, const std::string& owner) {
  if (!v) return std::nullopt;
  if (v->integer < lo || v->integer > hi) {
    diags_.Report(kind, v->range,
                  noun + " " + std::to_string(v->integer) + " of " + owner + " is out of range; expected " +
                      std::to_string(lo) + "-" + std::to_string(hi));
    return std::nullopt;
  }
  return v->integer;
}

std::optional<net::Prefix> Checker::CanonicalPrefix(const ast::Value& v, const std::string& what) {
  if (v.prefix.IsCanonical()) return v.prefix;
  std::string fixed = v.prefix.Canonical().ToString();
  diags_.Report(DiagKind::NonCanonicalPrefix, v.range,
                what + " `" + v.prefix.ToString() + "` has host bits set; did you mean `" + fixed + "`?")
      .Fix(v.range, fixed);
  return std::nullopt;
}

}  // namespace netdsl::sema
