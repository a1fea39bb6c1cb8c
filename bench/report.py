#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns the JSON of blight-transport-bench into Markdown tables.

Usage: bench/report.py results.json > tables.md
Every number comes from the file; nothing is typed in by hand.
"""
import json
import sys


def fmt(value, digits=3):
    if value is None:
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.2f}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.1f}k"
    if magnitude >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def stat_text(stat, suffix=""):
    if not stat or "median" not in stat:
        return "n/a"
    text = fmt(stat["median"]) + suffix
    if stat.get("n", 1) > 1 and stat["min"] != stat["max"]:
        text += f" ({fmt(stat['min'])}–{fmt(stat['max'])})"
    return text


def main():
    with open(sys.argv[1]) as handle:
        data = json.load(handle)
    machine = data["machine"]
    started = machine.get("started", "?")
    print(f"Run started {started}, finished {data['date']}: `{data['command']}`, {data['rounds']} rounds; "
          f"{machine['nproc']} CPUs ({machine['cpu']}), {machine['kernel']}, Qt {machine['qt']}, "
          f"load average at start {machine['loadavg_at_start']}.")
    print()
    print("Medians of the rounds, min–max in parentheses.")
    print()
    for key in data.get("scenario_order", data["scenarios"].keys()):
        scenario = data["scenarios"][key]
        print(f"### {key}")
        print()
        print(f"{scenario['description']}; {int(scenario['count'])} {scenario['unit']} per run.")
        print()
        if not scenario["ran"]:
            print(f"Skipped: {scenario.get('skip_reason', '')}")
            print()
            continue
        columns = scenario["columns"]
        print("| contender | " + " | ".join(c["label"] for c in columns) + " |")
        print("|---|" + "---|" * len(columns))
        for name in scenario.get("contender_order", scenario["contenders"].keys()):
            contender = scenario["contenders"][name]
            cells = [stat_text(contender["metrics"].get(c["key"])) for c in columns]
            flag = "" if contender["ok"] else " (ERRORS)"
            print(f"| {name}{flag} | " + " | ".join(cells) + " |")
        print()
        for name, ratio in scenario.get("ratios", {}).items():
            print(f"- `{name}` ({ratio['label']}): {stat_text(ratio, 'x')}")
        if scenario.get("ratios"):
            print()
    print("### Targets")
    print()
    print("| target | figure | required | measured (median) | |")
    print("|---|---|---|---|---|")
    for target in data["targets"]:
        figure = target.get("ratio") or f"{target['contender']} {target['metric']}"
        measured = fmt(target["value"]) if target.get("evaluated") else target.get("note", "not run")
        verdict = ("met" if target["met"] else "**NOT MET**") if target.get("evaluated") else "not run"
        print(f"| {target['text']} | `{figure}` ({target['metric']}) | {target['compare']} {target['threshold']} "
              f"| {measured} | {verdict} |")


if __name__ == "__main__":
    main()
