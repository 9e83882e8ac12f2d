#!/usr/bin/python3
"""Turns `convpool-bench --json` output (stdin) into the Markdown results
table of README.md's Performance section.

    build/tools/bench/convpool-bench --json | tools/bench/table.py
"""
import json
import sys


def fmt(v, digits=4):
    if v is None:
        return "-"
    return f"{v:.{digits}g}"


def main():
    header, rows = "", []
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("#"):
            header = line.lstrip("# ")
        elif line.startswith("{"):
            rows.append(json.loads(line))
    print(f"<!-- {header} -->")
    print("| case | threads | ours ms: median (fastest) | rate | % of peak "
          "| oneDNN ms: median (fastest) | ours / oneDNN | best peer ms | ours / peer |")
    print("|---|---|---|---|---|---|---|---|---|")
    order = []
    for r in rows:
        if r["case"] not in order:
            order.append(r["case"])
    for name in order:
        for r in sorted((r for r in rows if r["case"] == name), key=lambda r: r["threads"]):
            rate = (f'{r["gflops"]:.1f} GFLOP/s' if "gflops" in r
                    else f'{r["gbytes_per_s"]:.1f} GB/s')
            ours, dnnl, peer = r["ours_ms"], r["onednn_ms"], r["best_peer_ms"]
            dnnl_text = f'{fmt(dnnl)} ({fmt(r["onednn_min_ms"])})' if dnnl else "-"
            print(f'| {name} | {r["threads"]} | {fmt(ours)} ({fmt(r["ours_min_ms"])}) | {rate} | '
                  f'{fmt(r["percent_of_peak"], 2)}% | {dnnl_text} | '
                  f'{fmt(ours / dnnl, 2) if dnnl else "-"} | {fmt(peer)} | '
                  f'{fmt(ours / peer, 2) if peer else "-"} |')


if __name__ == "__main__":
    main()
