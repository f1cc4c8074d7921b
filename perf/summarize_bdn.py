#!/usr/bin/env python3
"""Folds BenchmarkDotNet's full JSON reports into one perf/results/managed.json and prints a table.

Each benchmark keeps: name, parameters, mean/median/min/max in ns, allocated bytes per operation,
and the machine (CPU, OS, runtime) BenchmarkDotNet recorded. Later runs of a benchmark replace
earlier entries with the same name, so the file always holds the newest figure per benchmark.
"""
import glob
import json
import os
import sys


def main(report_dir, out_path):
    merged = {}
    if os.path.exists(out_path):
        with open(out_path) as f:
            for entry in json.load(f).get("benchmarks", []):
                merged[entry["name"]] = entry
    host = None
    for path in sorted(glob.glob(os.path.join(report_dir, "*-report-full.json"))):
        with open(path) as f:
            report = json.load(f)
        host = report.get("HostEnvironmentInfo", host)
        for b in report.get("Benchmarks", []):
            stats = b.get("Statistics") or {}
            if not stats:
                continue
            name = b["FullName"]
            merged[name] = {
                "name": name,
                "type": b.get("Type"),
                "method": b.get("Method"),
                "parameters": b.get("Parameters"),
                "mean_ns": stats.get("Mean"),
                "median_ns": stats.get("Median"),
                "min_ns": stats.get("Min"),
                "max_ns": stats.get("Max"),
                "stddev_ns": stats.get("StandardDeviation"),
                "allocated_bytes": (b.get("Memory") or {}).get("BytesAllocatedPerOperation"),
                "source": os.path.basename(path),
            }
    machine = None
    if host:
        machine = {k: host.get(k) for k in ("ProcessorName", "PhysicalCoreCount", "LogicalCoreCount", "OsVersion", "RuntimeVersion")}
    with open(out_path, "w") as f:
        json.dump({"machine": machine, "benchmarks": sorted(merged.values(), key=lambda e: e["name"])}, f, indent=2)
    print("| benchmark | parameters | median | min | max | allocated |")
    print("|---|---|---:|---:|---:|---:|")
    for e in sorted(merged.values(), key=lambda e: e["name"]):
        print(f"| {e['type']}.{e['method']} | {e['parameters'] or ''} | {fmt(e['median_ns'])} | {fmt(e['min_ns'])} | {fmt(e['max_ns'])} | {e['allocated_bytes'] if e['allocated_bytes'] is not None else '?'} B |")


def fmt(ns):
    if ns is None:
        return "?"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
