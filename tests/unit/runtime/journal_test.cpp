// The journal (format 2): framed records, a torn tail at any byte is "never
// sent" and never an error, any other damage is an error naming the byte,
// never an exception; the op decoder refuses damaged lines.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "runtime/linux/journal.h"

using namespace netdsl::runtime;

namespace {

Step MakeStep(const std::string& label, std::vector<Op> inverse) {
  Step s;
  s.label = label;
  s.inverse = std::move(inverse);
  return s;
}

Op AddressOp(OpKind kind, const std::string& dev, const char* ip) {
  Address a;
  a.dev = dev;
  a.address = *netdsl::net::ParseIp(ip);
  a.prefix_length = 24;
  return Op{kind, a};
}

Op LinkOp(OpKind kind, const std::string& name) {
  Link l;
  l.name = name;
  l.kind = "bridge";
  l.mtu = 1450;
  l.alias = "netdsl";
  return Op{kind, l};
}

/// A journal as Journal writes it: begin, three steps, done records.
std::string SampleJournal() {
  JournalHeader h;
  h.host = "hv1";
  h.netns = {4, 4026532177, 99};
  h.boot = "b0a1";
  h.pid = 1234;
  h.started = "2026-01-01T00:00:00Z";
  std::string text = "netdsl-journal 2\n" +
                     Journal::Frame("begin host=hv1 netns=4:4026532177 cookie=99 boot=b0a1 pid=1234 "
                                    "started=2026-01-01T00:00:00Z");
  text += Journal::StepRecord(1, MakeStep("create link `nd-br1`", {LinkOp(OpKind::DeleteLink, "nd-br1")}));
  text += Journal::Frame("done 1");
  std::vector<Op> bulk;
  for (int i = 1; i < 40; ++i)
    bulk.push_back(AddressOp(OpKind::DelAddress, "nd-br1", ("10.0.0." + std::to_string(i)).c_str()));
  text += Journal::StepRecord(2, MakeStep("add addresses (39 entries)", bulk));
  text += Journal::Frame("done 2");
  text += Journal::StepRecord(3, MakeStep("change link `nd-br1`", {LinkOp(OpKind::CreateLink, "nd-br1")}));
  return text;
}

/// Offsets where each record of `text` ends.
std::vector<size_t> RecordEnds(const std::string& text) {
  std::vector<size_t> ends;
  size_t pos = text.find('\n') + 1;
  ends.push_back(pos);
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    size_t len = std::stoul(text.substr(pos + 2, text.find(' ', pos + 2) - pos - 2));
    pos = eol + 1 + len + 1;
    ends.push_back(pos);
  }
  return ends;
}

}  // namespace

TEST_CASE("a journal reads back: header, steps with their undo, done marks") {
  LoadedJournal j = ParseJournal(SampleJournal(), "j");
  REQUIRE(j.status == LoadedJournal::Status::kLoaded);
  CHECK_FALSE(j.torn_tail);
  CHECK(j.header.host == "hv1");
  CHECK(j.header.netns == NetnsIdentity{4, 4026532177, 99});
  CHECK(j.header.boot == "b0a1");
  CHECK(j.header.pid == 1234);
  REQUIRE(j.steps.size() == 3);
  CHECK(j.steps[0].label == "create link `nd-br1`");
  CHECK(j.steps[0].done);
  CHECK(j.steps[1].inverse.size() == 39);
  CHECK(j.steps[1].done);
  CHECK_FALSE(j.steps[2].done);
  CHECK(j.steps[2].inverse[0].kind == OpKind::CreateLink);
}

TEST_CASE("cut at every byte: the records before the cut are read, the torn one is ignored, never an error") {
  const std::string text = SampleJournal();
  const std::vector<size_t> ends = RecordEnds(text);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    CAPTURE(cut);
    LoadedJournal j = ParseJournal(std::string_view(text).substr(0, cut), "j");
    REQUIRE(j.status == LoadedJournal::Status::kLoaded);
    size_t complete = 0;  // records (after the first line) wholly before the cut
    for (size_t i = 1; i < ends.size(); ++i)
      if (ends[i] <= cut) complete = i;
    // Before the `begin` record is whole nothing was recorded: torn as well.
    bool on_boundary = cut >= ends[1] && std::find(ends.begin(), ends.end(), cut) != ends.end();
    CHECK(j.torn_tail == !on_boundary);
    if (j.torn_tail && cut >= ends[1]) CHECK(j.torn_bytes == cut - ends[complete]);
    // Records: begin, step 1, done 1, step 2, done 2, step 3.
    size_t steps = complete >= 6 ? 3 : complete >= 4 ? 2 : complete >= 2 ? 1 : 0;
    CHECK(j.steps.size() == steps);
  }
}

TEST_CASE("damage that is not a torn tail is an error naming the byte, never an exception") {
  const std::string text = SampleJournal();
  const std::vector<size_t> ends = RecordEnds(text);
  // Every byte of every record but the last, flipped.
  for (size_t at = ends[0]; at < ends[ends.size() - 2]; ++at) {
    CAPTURE(at);
    std::string bad = text;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    LoadedJournal j = ParseJournal(bad, "/run/netdsl/x.journal");
    CHECK(j.status == LoadedJournal::Status::kDamaged);
    CHECK(j.error.find("the journal `/run/netdsl/x.journal` is damaged at byte ") == 0);
  }
  CHECK(ParseJournal("netdsl-journal 1 host=h pid=1\nstep 1 x\n", "j").error.find("another format") !=
        std::string::npos);
  CHECK(ParseJournal("garbage\n", "j").status == LoadedJournal::Status::kDamaged);
}

TEST_CASE("a checksummed record with a malformed operation is damage, not an exception") {
  std::string head = "netdsl-journal 2\n" + Journal::Frame("begin host=h netns=1:2 cookie=0 boot=b pid=1 started=x");
  for (const char* undo : {"undo del-address|nd-br1|10.0.0.1|2%4", "undo del-address|nd-br1|10.0.0.1|%zz",
                           "undo set-link|nd-br1|99999999999999999999|-|-|-", "undo set-link|nd-br1|-|x|-|-",
                           "undo del-address|nd-br1|10.0.0.1", "undo del-address|nd-br1|10.0.0.1|24|extra",
                           "undo frobnicate|x", "undo replace-qdisc|d|htb|0|0|0|2|1:x:2:0"}) {
    CAPTURE(undo);
    LoadedJournal j = ParseJournal(head + Journal::Frame(std::string("step 1 x\n") + undo), "j");
    CHECK(j.status == LoadedJournal::Status::kDamaged);
    CHECK(j.error.find("undecodable operation") != std::string::npos);
  }
}

TEST_CASE("Begin writes the first record whole, or leaves no journal") {
  char tmpl[] = "/tmp/netdsl-journal-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string dir = tmpl;
  std::string path = dir + "/net-1-2.journal";
  {
    Journal journal;
    JournalHeader h;
    h.host = "hv1";
    h.netns = {1, 2, 3};
    h.boot = "b";
    std::string err;
    REQUIRE(journal.Begin(path, h, &err));
    REQUIRE(journal.Write(Journal::StepRecord(1, MakeStep("s", {LinkOp(OpKind::DeleteLink, "nd-x")})), &err));
    journal.Keep();
  }
  LoadedJournal j = LoadJournal(path);
  REQUIRE(j.status == LoadedJournal::Status::kLoaded);
  CHECK(j.header.netns == NetnsIdentity{1, 2, 3});
  CHECK(j.steps.size() == 1);
  // Only the journal itself is left (no temporary file).
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
  // A symlink in its place is refused, not followed.
  std::filesystem::remove(path);
  REQUIRE(symlink("/etc/hostname", path.c_str()) == 0);
  j = LoadJournal(path);
  CHECK(j.status == LoadedJournal::Status::kDamaged);
  CHECK(j.error.find("symbolic link") != std::string::npos);
  std::filesystem::remove_all(dir);
}
