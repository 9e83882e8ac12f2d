#!/usr/bin/python3
"""Turns `convpool-bench --json` output (stdin) into the Markdown results
table of README.md's Performance section, followed by the targets of the
fast paths, each marked met or not met from the same rows.

    build/tools/bench/convpool-bench --json | tools/bench/table.py
    build/tools/bench/convpool-bench --cases tools/bench/cases-large.json --json \
        | tools/bench/table.py
"""
import json
import sys


def fmt(v, digits=4):
    if v is None:
        return "-"
    return f"{v:.{digits}g}"


def pct(v):
    if v is None:
        return "-"
    return f"{v:.0f}%" if v >= 10 else f"{v:.2g}%"


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
                  f'{pct(r["percent_of_peak"])} | {dnnl_text} | '
                  f'{fmt(ours / dnnl, 2) if dnnl else "-"} | {fmt(peer)} | '
                  f'{fmt(ours / peer, 2) if peer else "-"} |')
    print()
    print("**Targets** (from the table above):")
    print()
    print("\n".join(targets(rows)))


LARGE_CONVS = ["stem", "r3x3", "r1x1a", "r1x1b", "r3x3_28", "r3x3_s2", "r3x3_7", "b8_r3x3"]
POOLS_2X = ["dw112", "dw56s2", "maxpool_stem", "maxpool_vgg", "avgpool", "avgpool3_pad"]
# tools/bench/cases-large.json: working sets far beyond L2
LARGE_3X3 = ["vgg_c1", "vgg_c2", "vgg_c3", "vgg_c4", "hires64", "unet_c2"]
LARGE_ALL = LARGE_3X3 + ["hires_1x1", "maxpool_hires"]
LARGE_PEAK = {1: 85, 2: 80}  # % of the measured FMA peak, by thread count


def large_targets(by, verdict):
    """The large-activation targets (cases-large.json), where its rows are."""
    for th in (1, 2):
        got = [(c, by[(c, th)]["percent_of_peak"]) for c in LARGE_3X3 if (c, th) in by]
        got = [(c, v) for c, v in got if v is not None]
        if not got:
            continue
        need = LARGE_PEAK[th]
        verdict(all(v >= need for _, v in got),
                f"large activations: every 3x3 case at >= {need}% of the measured FMA peak, "
                f'{th} thread{"s" if th > 1 else ""}: ' +
                ", ".join(f"{c} {v:.0f}%" + (f" (short by {need - v:.0f} points)"
                                             if v < need else "") for c, v in got) + ".")
    for th in (1, 2):
        mine = [by[(c, th)] for c in LARGE_ALL if (c, th) in by and by[(c, th)]["onednn_ms"]]
        if not mine:
            continue
        slow = [(r["case"], r["ours_ms"] / r["onednn_ms"]) for r in mine
                if r["ours_ms"] > r["onednn_ms"]]
        verdict(not slow, "large activations: no case slower than oneDNN in the same run, "
                f'{th} thread{"s" if th > 1 else ""}: {len(mine) - len(slow)} of {len(mine)}' +
                ("" if not slow else "; slower (our time / oneDNN's, 1.00 = level): " +
                 ", ".join(f"{c} {v:.2f}" for c, v in slow)) + ".")


def targets(rows):
    """The speed targets, evaluated on `rows`, as Markdown list items."""
    by = {(r["case"], r["threads"]): r for r in rows}
    compared = [r for r in rows if r["best_peer_ms"]]  # the suite's cases
    out = []

    def verdict(ok, text):
        out.append(f'- **{"Met" if ok else "Not met"}** — {text}')

    def as_fast_as(key, who, whose):
        for th in (1, 2):
            mine = [r for r in compared if r["threads"] == th and r[key]]
            if not mine:
                continue  # not the suite's cases (cases-large.json)
            slow = [(r["case"], r["ours_ms"] / r[key]) for r in mine if r["ours_ms"] > r[key]]
            verdict(not slow, f"every case at least as fast as {who}, {th} thread"
                    f'{"s" if th > 1 else ""}: {len(mine) - len(slow)} of {len(mine)}' +
                    ("" if not slow else f"; slower (our time / {whose}): " +
                     ", ".join(f"{c} {v:.2f}" for c, v in slow)) + ".")

    as_fast_as("best_peer_ms", "the best NCHW peer", "peer's")
    as_fast_as("onednn_ms", "oneDNN in the same run", "oneDNN's")
    for th in (1, 2):
        got = [(c, by[(c, th)]["percent_of_peak"]) for c in LARGE_CONVS if (c, th) in by]
        if got and all(v is not None for _, v in got):
            verdict(all(v >= 90 for _, v in got), "large convolutions at >= 90% of the measured "
                    f'FMA peak, {th} thread{"s" if th > 1 else ""}: ' +
                    ", ".join(f"{c} {v:.0f}%" for c, v in got) + ".")
    for th in (1, 2):
        got = [(c, by[(c, th)]["best_peer_ms"] / by[(c, th)]["ours_ms"])
               for c in POOLS_2X + ["gap"] if (c, th) in by]
        if not got:
            continue
        short = [c for c, v in got if v < (1.2 if c == "gap" else 2.0)]
        verdict(not short, "depthwise and pools >= 2x the best peer (gap >= 1.2x), "
                f'{th} thread{"s" if th > 1 else ""} (peer\'s time / ours): ' +
                ", ".join(f'{c} {v:.2f}x{" (short)" if c in short else ""}' for c, v in got) +
                ".")
    large_targets(by, verdict)
    if ("toy", 1) in by:
        us = by[("toy", 1)]["ours_ms"] * 1e3
        verdict(us <= 0.3, f"toy <= 0.3 µs per run through the op API: {us:.3f} µs "
                "(`convpool_op_run_ex`, 1-thread context).")
    got = [(c, by[(c, 1)]["ours_ms"] / by[(c, 2)]["ours_ms"]) for c in LARGE_CONVS
           if (c, 1) in by and (c, 2) in by]
    if got:
        verdict(all(v >= 1.85 for _, v in got), "2 threads >= 1.85x faster than 1 on the large "
                "convolutions (speed-up of the medians): " +
                ", ".join(f"{c} {v:.2f}x" for c, v in got) + ".")
    return out


if __name__ == "__main__":
    main()
