"""Validates the shape of `netdslc check --diagnostics=json` output."""
import json
import sys

diags = json.load(open(sys.argv[1]))
assert isinstance(diags, list) and len(diags) == 3, diags
keys = {"code", "severity", "message", "file", "line", "column", "end_line", "end_column", "notes"}
for d in diags:
    assert set(d) == keys, d.keys()
    assert d["code"].startswith("ND") and len(d["code"]) == 6
    assert d["severity"] in ("error", "warning", "note")
    assert d["line"] >= 1 and d["column"] >= 1
    assert (d["end_line"], d["end_column"]) >= (d["line"], d["column"])
    for n in d["notes"]:
        assert {"message", "file", "line", "column", "end_line", "end_column"} <= set(n)
prefix = diags[1]
assert prefix["code"] == "ND0040" and (prefix["line"], prefix["column"], prefix["end_column"]) == (4, 14, 17), prefix
cycle = diags[2]
assert cycle["code"] == "ND0061" and len(cycle["notes"]) == 1, cycle
assert cycle["notes"][0]["file"].endswith("cycle-a.netdsl"), cycle
print("ok")
