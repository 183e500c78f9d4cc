"""Cases per check of one schemathesis run, from its NDJSON events: `counts.py RUN.ndjson`."""
import collections
import json
import sys

counts = collections.defaultdict(collections.Counter)
for line in open(sys.argv[1], encoding="utf-8"):
    event = json.loads(line)
    finished = event.get("ScenarioFinished")
    if not finished:
        continue
    for results in finished["recorder"].get("checks", {}).values():
        for check in results:
            counts[check["name"]][check["status"]] += 1
print(f"   {'check':32} {'cases':>7} {'passed':>7} {'failed':>7}")
for name, by_status in sorted(counts.items()):
    print(f"   {name:32} {sum(by_status.values()):7} {by_status['success']:7} {by_status['failure']:7}")
