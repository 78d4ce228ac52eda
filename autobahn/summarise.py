"""Summarise an Autobahn fuzzingclient ``index.json`` into ``RESULTS.md``.

    python autobahn/summarise.py reports/servers/index.json autobahn/RESULTS.md

Writes the latest run between the ``results`` markers of the file (creating it if needed),
so notes outside the markers survive re-runs: the count of cases per behaviour, and a table
of every case whose behaviour (or close behaviour) is not OK.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

BEHAVIOURS = ("OK", "NON-STRICT", "INFORMATIONAL", "FAILED", "UNIMPLEMENTED")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def case_key(case: str) -> tuple[int, ...]:
    return tuple(int(part) for part in case.split("."))


def summary(index: dict) -> str:
    (agent, cases), = index.items()
    counts = {name: 0 for name in BEHAVIOURS}
    odd = []
    for case in sorted(cases, key=case_key):
        result = cases[case]
        behaviour = result["behavior"]
        counts[behaviour] = counts.get(behaviour, 0) + 1
        if behaviour != "OK" or result["behaviorClose"] != "OK":
            odd.append((case, result))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    lines = [
        BEGIN,
        f"Latest run: {datetime.date.today().isoformat()}, commit {commit}, agent `{agent}`, "
        f"{len(cases)} cases.",
        "",
        "| behaviour | cases |",
        "|---|---|",
    ]
    lines += [f"| {name} | {count} |" for name, count in counts.items()]
    lines.append("")
    if odd:
        lines += ["| case | behaviour | close behaviour | close code (ours) | duration ms |",
                  "|---|---|---|---|---|"]
        for case, result in odd:
            lines.append(f"| {case} | {result['behavior']} | {result['behaviorClose']} | "
                         f"{result.get('remoteCloseCode')} | {result.get('duration')} |")
    else:
        lines.append("Every case is OK.")
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    index_path, results_path = Path(sys.argv[1]), Path(sys.argv[2])
    block = summary(json.loads(index_path.read_text()))
    if results_path.exists():
        text = results_path.read_text()
    else:
        text = "# Autobahn|Testsuite results\n\nMade by `autobahn/run.sh`.\n\n" + BEGIN + "\n" + END + "\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    results_path.write_text(text)
    print(block)


if __name__ == "__main__":
    main()
