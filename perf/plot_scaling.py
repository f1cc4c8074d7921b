#!/usr/bin/python3
"""Draws perf/results/scaling.json (written by Lb.ScalingBench) as a PNG: latency and rates against the
number of services, one line per contender. A point whose run failed outright has no value and is drawn
as an x on the axis; a point with some failed requests is drawn hollow (see the table for the reasons)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PANELS = [
    ("p50UsSingle", "p50 latency, 1 client (µs)", True),
    ("p99UsSingle", "p99 latency, 1 client (µs)", True),
    ("p99UsConcurrent", "p99 latency, concurrent clients (µs)", True),
    ("requestsPerSecondConcurrent", "new-connection requests/s, concurrent clients", False),
    ("udpPerSecond", "UDP request-response/s", False),
    ("loadSeconds", "time to load the service set (s)", True),
]


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as f:
        report = json.load(f)
    results = report["results"]
    contenders = list(dict.fromkeys(r["contender"] for r in results))
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    for ax, (key, title, log_y) in zip(axes.flat, PANELS):
        for name in contenders:
            # Plain routing installs nothing: its load time is not applicable, not failed.
            rows = sorted((r for r in results if r["contender"] == name
                           and (key != "loadSeconds" or r.get("loadApplicable", True))), key=lambda r: r["services"])
            if not rows:
                ax.plot([], [], marker="o", label=name)
                continue
            xs = [r["services"] for r in rows]
            ys = [r[key]["median"] if r[key] else None for r in rows]
            line, = ax.plot([x for x, y in zip(xs, ys) if y is not None], [y for y in ys if y is not None], marker="o", label=name)
            for r, y in zip(rows, ys):
                if y is None:
                    ax.plot([r["services"]], [0.02], marker="x", color=line.get_color(), markersize=10,
                            transform=ax.get_xaxis_transform(), clip_on=False)
                elif r["failures"]:
                    ax.plot([r["services"]], [y], marker="o", markerfacecolor="white", color=line.get_color())
        ax.set_xscale("symlog", linthresh=1)
        if log_y:
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("services")
        ax.grid(True, which="both", alpha=0.3)
    m = report["machine"]
    fig.suptitle(f"Lb vs kube-proxy vs routing — {m['cpu']} ({m['logicalCpus']} CPUs), kernel {m['kernel']}, "
                 f"load {m['loadavgBefore'].split()[0]}→{m['loadavgAfter'].split()[0]}; x on the axis = failed, hollow = some requests failed; "
                 f"afxdp: not implemented; Mpps: {report['mpps']}", fontsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    fig.savefig(target, dpi=100)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot_scaling.py scaling.json scaling.png")
    main(sys.argv[1], sys.argv[2])
