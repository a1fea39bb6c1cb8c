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


def per_round_ratios(scenario, a, b, metric):
    """Round i of a over round i of b, as the benchmark pairs them."""
    try:
        va = scenario["contenders"][a]["metrics"][metric]["values"]
        vb = scenario["contenders"][b]["metrics"][metric]["values"]
    except KeyError:
        return []
    return [x / y if x is not None and y else None for x, y in zip(va, vb)]


def frame_ring_table(data):
    """frame-ring: pool against fresh per link, side by side, with the target."""
    keys = [k for k in data.get("scenario_order", data["scenarios"].keys())
            if k.startswith("frame-ring/") and data["scenarios"][k]["ran"]]
    if not keys:
        return
    print("### frame-ring: pool against fresh")
    print()
    print("| link | pool process CPU us/frame | fresh process CPU us/frame | pool/fresh CPU per frame "
          "| per round | pool frames/s | fresh frames/s | pool/fresh frames/s | target (CPU <= 0.7x) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key in keys:
        scenario = data["scenarios"][key]
        metrics = {name: scenario["contenders"][name]["metrics"] for name in ("pool", "fresh")
                   if name in scenario["contenders"]}
        if len(metrics) < 2:
            continue
        ratios = scenario.get("ratios", {})
        rounds = ", ".join(fmt(r) for r in per_round_ratios(scenario, "pool", "fresh", "process_cpu_us_per_frame"))
        verdict = "not judged"
        for target in data["targets"]:
            if target["scenario"] == key and target.get("metric") == "process_cpu_us_per_frame":
                if target.get("evaluated"):
                    verdict = "met" if target["met"] else "**NOT MET**"
        print(f"| {key.split('/', 1)[1]} | {stat_text(metrics['pool'].get('process_cpu_us_per_frame'))} "
              f"| {stat_text(metrics['fresh'].get('process_cpu_us_per_frame'))} "
              f"| {stat_text(ratios.get('ratio_pool_vs_fresh'), 'x')} | {rounds} "
              f"| {stat_text(metrics['pool'].get('frames_per_s'))} | {stat_text(metrics['fresh'].get('frames_per_s'))} "
              f"| {stat_text(ratios.get('ratio_pool_vs_fresh_frames_per_s'), 'x')} | {verdict} |")
    print()


def target_verdict(data, key, ratio_name):
    """MET / NOT MET for the target on ratio_name in scenario key, if any."""
    for target in data.get("targets", []):
        if target["scenario"] == key and target.get("ratio") == ratio_name:
            if not target.get("evaluated"):
                return f"{target['compare']} {target['threshold']}: not judged"
            verdict = "met" if target["met"] else "**NOT MET**"
            return f"{target['compare']} {target['threshold']}: {verdict}"
    return "not judged"


def tiles_uring_table(data):
    """tiles-udp-veth: io_uring against plain send() and MSG_ZEROCOPY per size, with the targets."""
    keys = [k for k in data.get("scenario_order", data["scenarios"].keys())
            if k.startswith("tiles-udp-veth/") and data["scenarios"][k]["ran"]
            and "transport-uring" in data["scenarios"][k]["contenders"]]
    if not keys:
        return
    print("### tiles-udp-veth: io_uring SEND_ZC against plain send() and MSG_ZEROCOPY")
    print()
    print("Process CPU per GB; GB/s for information.")
    print()
    print("| size | plain-send s/GB | zerocopy-on s/GB | uring s/GB | uring/plain | target | uring/zerocopy-on "
          "| target | uring/plain GB/s | uring/zerocopy-on GB/s | pool buffers registered |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in keys:
        scenario = data["scenarios"][key]
        contenders = scenario["contenders"]
        ratios = scenario.get("ratios", {})

        def cpu(name):
            metrics = contenders.get(name, {}).get("metrics", {})
            return stat_text(metrics.get("process_cpu_s_per_gb"))

        plain = "ratio_transport-uring_vs_plain-send"
        zerocopy = "ratio_transport-uring_vs_transport-zerocopy-on"
        registered = stat_text(contenders["transport-uring"]["metrics"].get("registered_pct"), " %")
        print(f"| {key.split('/', 1)[1]} | {cpu('plain-send')} | {cpu('transport-zerocopy-on')} "
              f"| {cpu('transport-uring')} | {stat_text(ratios.get(plain), 'x')} | {target_verdict(data, key, plain)} "
              f"| {stat_text(ratios.get(zerocopy), 'x')} | {target_verdict(data, key, zerocopy)} "
              f"| {stat_text(ratios.get(plain + '_gb_per_s'), 'x')} "
              f"| {stat_text(ratios.get(zerocopy + '_gb_per_s'), 'x')} | {registered} |")
    print()


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
            flag = " (SKIPPED)" if contender.get("skip_reason") else "" if contender["ok"] else " (ERRORS)"
            print(f"| {name}{flag} | " + " | ".join(cells) + " |")
        print()
        for name in scenario.get("contender_order", scenario["contenders"].keys()):
            contender = scenario["contenders"][name]
            if contender.get("skip_reason"):
                print(f"- {name} skipped: {contender['skip_reason']}")
            for note in contender.get("notes", []):
                print(f"- {name}: {note}")
            for error in contender.get("errors", []):
                print(f"- {name} ERROR: {error}")
        if any(c.get("notes") or c.get("errors") or c.get("skip_reason") for c in scenario["contenders"].values()):
            print()
        for name, ratio in scenario.get("ratios", {}).items():
            print(f"- `{name}` ({ratio['label']}): {stat_text(ratio, 'x')}")
        if scenario.get("ratios"):
            print()
    frame_ring_table(data)
    tiles_uring_table(data)
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
