// JSON string quoting shared by the manifest and `netdsl tables dump --json`.
#include <doctest/doctest.h>

#include "common/io/json_string.h"

using netdsl::io::JsonString;

TEST_CASE("json strings escape quotes, backslashes and control characters") {
  CHECK(JsonString("tenant A") == "\"tenant A\"");
  CHECK(JsonString("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(JsonString("l1\nl2\tx\r") == "\"l1\\nl2\\tx\\r\"");
  CHECK(JsonString(std::string_view("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\\u007f\"");
  CHECK(JsonString("gw\xe2\x80\x9alow") == "\"gw\xe2\x80\x9alow\"");  // UTF-8 passes through
  CHECK(JsonString("") == "\"\"");
}
