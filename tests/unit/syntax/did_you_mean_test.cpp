// Edit distance and "did you mean" suggestions.
#include "compiler/diag/did_you_mean.h"

#include <doctest/doctest.h>

using netdsl::DidYouMean;
using netdsl::EditDistance;

TEST_CASE("edit distance counts inserts, deletes and substitutions") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("abc", "") == 3);
  CHECK(EditDistance("", "abc") == 3);
  CHECK(EditDistance("kitten", "sitting") == 3);
  CHECK(EditDistance("Gbs", "Gbps") == 1);
  CHECK(EditDistance("vlan", "vlan") == 0);
  CHECK(EditDistance("isolation", "isolaton") == 1);
  CHECK(EditDistance("flaw", "lawn") == 2);
}

TEST_CASE("edit distance stops early past the limit") {
  CHECK(EditDistance("abcdefgh", "zyxwvuts", 2) == 3);
  CHECK(EditDistance("a", "abcdefgh", 3) == 4);
  CHECK(EditDistance("kitten", "sitting", 3) == 3);
}

TEST_CASE("did you mean picks the closest candidate within the threshold") {
  std::vector<std::string_view> units = {"bps", "kbps", "Mbps", "Gbps", "Tbps"};
  CHECK(DidYouMean("Gbs", units) == std::optional<std::string>("Gbps"));
  CHECK(DidYouMean("gbps", units) == std::optional<std::string>("Gbps"));  // case only
  CHECK(DidYouMean("G", units) == std::nullopt);
  CHECK(DidYouMean("Gbps", std::vector<std::string_view>{"Gbps"}) == std::nullopt);  // not itself
  std::vector<std::string> kinds = {"logical_network", "logical_switch", "vm_network", "vm_subnet"};
  CHECK(DidYouMean("logical_netwrok", kinds) == std::optional<std::string>("logical_network"));
  CHECK(DidYouMean("vm_subnt", kinds) == std::optional<std::string>("vm_subnet"));
  CHECK(DidYouMean("host", kinds) == std::nullopt);
}

TEST_CASE("did you mean breaks ties deterministically") {
  std::vector<std::string_view> a = {"cat", "bat"};
  std::vector<std::string_view> b = {"bat", "cat"};
  CHECK(DidYouMean("at", a) == std::optional<std::string>("bat"));
  CHECK(DidYouMean("at", b) == std::optional<std::string>("bat"));
  CHECK(netdsl::DidYouMeanSuffix("Gbs", {"Gbps"}) == ", did you mean `Gbps`?");
  CHECK(netdsl::DidYouMeanSuffix("xyz", {"Gbps"}).empty());
}
