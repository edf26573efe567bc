"""Validates the structure of `netdslc check --diagnostics=sarif` output."""
import json
import sys

log = json.load(open(sys.argv[1]))
assert log["version"] == "2.1.0", log["version"]
assert "sarif-2.1.0" in log["$schema"]
assert len(log["runs"]) == 1
run = log["runs"][0]
driver = run["tool"]["driver"]
assert driver["name"] == "netdslc" and driver["version"]
rules = driver["rules"]
ids = [r["id"] for r in rules]
assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
for r in rules:
    assert r["name"] and r["shortDescription"]["text"], r
results = run["results"]
assert {r["ruleId"] for r in results} == set(ids), (ids, results)
for r in results:
    assert r["level"] in ("error", "warning", "note")
    assert r["message"]["text"]
    assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    loc = r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith(".netdsl"), loc
    reg = loc["region"]
    for k in ("startLine", "startColumn", "endLine", "endColumn"):
        assert isinstance(reg[k], int) and reg[k] >= 1, reg
first = results[0]
assert first["ruleId"] == "ND0021" and first["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
cycle = [r for r in results if r["ruleId"] == "ND0061"][0]
rel = cycle["relatedLocations"]
assert len(rel) == 1 and rel[0]["message"]["text"] and rel[0]["physicalLocation"]["region"]["startLine"] == 1
print("ok")
