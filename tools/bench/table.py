#!/usr/bin/python3
"""Turns `convpool-bench --json` output (stdin) into the Markdown results
table of README.md's Performance section, followed by the targets of the
fast paths, each marked met or not met from the same rows.

    build/tools/bench/convpool-bench --json | tools/bench/table.py
    build/tools/bench/convpool-bench --cases tools/bench/cases-large.json --json \
        | tools/bench/table.py

The rows of `convpool-bench --backward` (case+bwd_data, case+bwd_weights,
case+bwd_data_x) get a table of their own and the backward-pass targets.
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


def by_case(rows):
    """(case, its rows by thread count), the cases in the order they first appear."""
    order = []
    for r in rows:
        if r["case"] not in order:
            order.append(r["case"])
    for name in order:
        yield name, sorted((r for r in rows if r["case"] == name), key=lambda r: r["threads"])


def measured_cells(r):
    """A row's cells from ours ms to ours / oneDNN."""
    rate = (f'{r["gflops"]:.1f} GFLOP/s' if "gflops" in r
            else f'{r["gbytes_per_s"]:.1f} GB/s')
    ours, dnnl = r["ours_ms"], r["onednn_ms"]
    dnnl_text = f'{fmt(dnnl)} ({fmt(r["onednn_min_ms"])})' if dnnl else "-"
    return (f'{fmt(ours)} ({fmt(r["ours_min_ms"])}) | {rate} | {pct(r["percent_of_peak"])} | '
            f'{dnnl_text} | {fmt(ours / dnnl, 2) if dnnl else "-"}')


def main():
    header, rows = "", []
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("#"):
            header = line.lstrip("# ")
        elif line.startswith("{"):
            rows.append(json.loads(line))
    print(f"<!-- {header} -->")
    rows, backward = [r for r in rows if BWD not in r["case"]], [r for r in rows if BWD in r["case"]]
    if backward:
        print_backward(backward)
        if not rows:
            return
        print()
    print("| case | threads | ours ms: median (fastest) | rate | % of peak "
          "| oneDNN ms: median (fastest) | ours / oneDNN | best peer ms | ours / peer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, case_rows in by_case(rows):
        for r in case_rows:
            ours, peer = r["ours_ms"], r["best_peer_ms"]
            label = name
            if r["op"] in LP_POOLS:  # oneDNN has no Lp pooling: say what it ran instead
                label += " (vs oneDNN's avg pool)"
            print(f'| {label} | {r["threads"]} | {measured_cells(r)} | {fmt(peer)} | '
                  f'{fmt(ours / peer, 2) if peer else "-"} |')
    if any(r["op"] in LP_POOLS for r in rows):
        print()
        print("oneDNN has no Lp pooling: the LpPool rows compare with its average pooling "
              "(pads included) of the same window, stride and pads, the same sum over the same "
              "taps without the powers and the root.")
    suite_targets = targets(rows)
    if suite_targets:
        print()
        print("**Targets** (from the table above):")
        print()
        print("\n".join(suite_targets))
    transpose_targets = conv_transpose_lp_targets(rows)
    if transpose_targets:
        print()
        print("**ConvTranspose and LpPool targets** (from the table above):")
        print()
        print("\n".join(transpose_targets))


LARGE_CONVS = ["stem", "r3x3", "r1x1a", "r1x1b", "r3x3_28", "r3x3_s2", "r3x3_7", "b8_r3x3"]
LP_POOLS = ["LpPool", "GlobalLpPool"]
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
            if not mine:  # --only with none of them, or cases-large.json's rows
                continue
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


BWD = "+bwd_"
BWD_PASSES = {"+bwd_data": "dx", "+bwd_weights": "dw, db", "+bwd_data_x": "dx, argmax from x"}


def split_pass(name):
    """("r3x3", "+bwd_data") from "r3x3+bwd_data"."""
    i = name.index(BWD)
    return name[:i], name[i:]


def print_backward(rows):
    """The backward passes' table and targets."""
    print("| case | gradient | threads | ours ms: median (fastest) | rate | % of peak "
          "| oneDNN ms: median (fastest) | ours / oneDNN |")
    print("|---|---|---|---|---|---|---|---|")
    for name, case_rows in by_case(rows):
        case, suffix = split_pass(name)
        for r in case_rows:
            print(f'| {case} | {BWD_PASSES.get(suffix, suffix)} | {r["threads"]} | '
                  f'{measured_cells(r)} |')
    print()
    print("**Backward-pass targets** (from the table above; ratios are our time / oneDNN's, "
          "so above 1 is slower):")
    print()
    print("\n".join(backward_targets(rows)))


def slower(ratio):
    """" (29% slower)" for a time ratio of 1.29; nothing from 2 on, where the ratio says it."""
    return f" ({100 * (ratio - 1):.0f}% slower)" if ratio < 2 else ""


def backward_targets(rows):
    """The backward passes' speed targets, evaluated on `rows`, as Markdown list items:
    at 1 and 2 threads, every Conv case's dx and dw at least as fast as oneDNN's and
    >= 75% of the FMA peak on the large cases; pool backward at least as fast as
    oneDNN's."""
    by = {(r["case"], r["threads"]): r for r in rows}
    out = []

    def verdict(ok, text):
        out.append(f'- **{"Met" if ok else "Not met"}** — {text}')

    def threads_text(th):
        return f'{th} thread{"s" if th > 1 else ""}'

    def as_fast_as_dnnl(mine, what, th):
        if not mine:
            return
        timed = [r for r in mine if r["onednn_ms"]]
        slow = [(split_pass(r["case"])[0], r["ours_ms"] / r["onednn_ms"])
                for r in timed if r["ours_ms"] > r["onednn_ms"]]
        missing = len(mine) - len(timed)
        verdict(not slow and not missing,
                f"{what} at least as fast as oneDNN's, {threads_text(th)}: "
                f"{len(timed) - len(slow)} of {len(mine)}" +
                ("" if not slow else "; slower (ours / oneDNN): " +
                 ", ".join(f"{c} {v:.2f}{slower(v)}" for c, v in slow)) +
                ("" if not missing else f"; {missing} without a oneDNN time") + ".")

    for suffix, what in (("+bwd_data", "dx (backward data)"),
                         ("+bwd_weights", "dw and db (backward weights)")):
        for th in (1, 2):
            as_fast_as_dnnl([r for r in rows if r["op"] == "Conv" and r["threads"] == th
                             and r["case"].endswith(suffix)], f"every Conv case's {what}", th)
        for th in (1, 2):
            got = [(c, by[(c + suffix, th)]["percent_of_peak"]) for c in LARGE_CONVS
                   if (c + suffix, th) in by]
            if got and all(v is not None for _, v in got):
                short = [(c, v) for c, v in got if v < 75]
                verdict(not short, f"{what} of the large convolutions at >= 75% of the measured "
                        f"FMA peak, {threads_text(th)}: " +
                        ", ".join(f"{c} {v:.0f}%" + (f" ({75 - v:.0f} points short)"
                                                     if v < 75 else "") for c, v in got) + ".")
    for th in (1, 2):
        as_fast_as_dnnl([r for r in rows if r["op"] != "Conv" and r["threads"] == th
                         and r["case"].endswith("+bwd_data")], "pool backward (dx)", th)
    return out


def conv_transpose_lp_targets(rows):
    """The targets of the ConvTranspose and LpPool cases, as Markdown list
    items: every ConvTranspose case at least as fast as oneDNN's
    deconvolution, those of >= 100 MFLOP at >= 80% of the measured FMA peak,
    LpPool at least as fast as oneDNN's pooling of the same window; each at
    1 and 2 threads, with how far from the target it is when not met."""
    out = []

    def verdict(ok, text):
        out.append(f'- **{"Met" if ok else "Not met"}** — {text}')

    def plural(th):
        return f'{th} thread{"s" if th > 1 else ""}'

    def vs_onednn(ops, what, th):
        mine = [r for r in rows if r["op"] in ops and r["threads"] == th and r["onednn_ms"]]
        if not mine:
            return
        slow = [(r["case"], r["ours_ms"] / r["onednn_ms"]) for r in mine
                if r["ours_ms"] > r["onednn_ms"]]
        # on a loaded machine the fastest samples tell whether a miss is the load's
        fastest = [r for r in mine if r["ours_min_ms"] <= r["onednn_min_ms"]]
        verdict(not slow, f"{what}, {plural(th)}: {len(mine) - len(slow)} of {len(mine)}" +
                ("" if not slow else "; slower (our time / oneDNN's): " +
                 ", ".join(f"{c} {v:.2f}" for c, v in slow) +
                 f"; comparing fastest samples, {len(fastest)} of {len(mine)} at least as "
                 "fast") + ".")

    for th in (1, 2):
        vs_onednn(["ConvTranspose"], "every ConvTranspose case at least as fast as oneDNN's "
                  "deconvolution in the same run", th)
    for th in (1, 2):
        # GFLOP/s * ms = MFLOP
        big = [r for r in rows if r["op"] == "ConvTranspose" and r["threads"] == th and
               r.get("gflops") and r["gflops"] * r["ours_ms"] >= 100 and
               r["percent_of_peak"] is not None]
        if big:
            short = [r for r in big if r["percent_of_peak"] < 80]
            verdict(not short, "ConvTranspose cases of >= 100 MFLOP at >= 80% of the measured "
                    f"FMA peak, {plural(th)}: " +
                    ", ".join(f'{r["case"]} {r["percent_of_peak"]:.0f}%' +
                              (f' ({80 - r["percent_of_peak"]:.0f} points short; fastest '
                               f'sample {r["percent_of_peak"] * r["ours_ms"] / r["ours_min_ms"]:.0f}%)'
                               if r in short else "") for r in big) + ".")
    for th in (1, 2):
        vs_onednn(LP_POOLS, "LpPool and GlobalLpPool at least as fast as oneDNN's average "
                  "pooling of the same window (oneDNN has no Lp pooling)", th)
    return out


if __name__ == "__main__":
    main()
