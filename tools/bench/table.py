#!/usr/bin/python3
"""Turns `convpool-bench --json` output (stdin) into the Markdown results
table of README.md's Performance section, followed by the targets of the
fast paths, each marked met or not met from the same rows.

    build/tools/bench/convpool-bench --json | tools/bench/table.py
    build/tools/bench/convpool-bench --cases tools/bench/cases-large.json --json \
        | tools/bench/table.py

The rows of `convpool-bench --backward` (case+bwd_data, case+bwd_weights,
case+bwd_data_x) get a table of their own and the backward-pass targets.

--no-peers leaves out the best-peer columns and the targets measured against
them: the tool's peer times come from one machine (../shared/bench/README.md)
and compare with nothing on another CPU.
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


def threads_text(th):
    return f'{th} thread{"s" if th > 1 else ""}'


def verdict_item(ok, text):
    return f'- **{"Met" if ok else "Not met"}** — {text}'


def slower(ratio):
    """" (29% slower)" for a time ratio of 1.29; nothing from 2 on, where the ratio says it."""
    if ratio >= 2:
        return ""
    pct = 100 * (ratio - 1)
    return f" ({pct:.0f}% slower)" if pct >= 1 else f" ({pct:.1f}% slower)"


def as_fast_verdict(mine, key, what, th, whose="oneDNN's", label=lambda r: r["case"]):
    """The verdict on `what`: every row of `mine` at least as fast as r[key] (a time in
    ms; rows without one are counted as missing), with the slower ones and their ratio;
    against oneDNN also how many of the fastest samples were at least as fast (on a
    loaded machine they tell whether a miss is the load's)."""
    timed = [r for r in mine if r[key]]
    slow = [r for r in timed if r["ours_ms"] > r[key]]
    missing = len(mine) - len(timed)
    text = f"{what}, {threads_text(th)}: {len(timed) - len(slow)} of {len(mine)}"
    if slow:
        text += f"; slower (our time / {whose}): " + ", ".join(
            f'{label(r)} {r["ours_ms"] / r[key]:.2f}{slower(r["ours_ms"] / r[key])}'
            for r in slow)
        if key == "onednn_ms":
            fastest = [r for r in timed if r["ours_min_ms"] <= r["onednn_min_ms"]]
            text += f"; comparing fastest samples, {len(fastest)} of {len(timed)} at least as fast"
    if missing:
        text += f"; {missing} without a time to compare"
    return verdict_item(not slow and not missing, text + ".")


def peak_verdict(rows, need, what, th, label=lambda r: r["case"]):
    """The verdict on `what`: every row at >= need % of the measured FMA peak, with how
    far each short one is (and its fastest sample's percentage)."""
    short = [r for r in rows if r["percent_of_peak"] < need]

    def cell(r):
        v = r["percent_of_peak"]
        if v >= need:
            return f"{label(r)} {v:.0f}%"
        best = v * r["ours_ms"] / r["ours_min_ms"]
        gap = need - v
        gap_text = f"{gap:.1f} points" if gap < 1 else f"{gap:.0f} point{'s' if gap >= 1.5 else ''}"
        shown = f"{v:.1f}%" if round(v) >= need else f"{v:.0f}%"  # not "75%" for 74.9%
        return f"{label(r)} {shown} ({gap_text} short; fastest sample {best:.0f}%)"
    return verdict_item(not short, f"{what} at >= {need}% of the measured FMA peak, "
                        f"{threads_text(th)}: " + ", ".join(cell(r) for r in rows) + ".")


def main():
    args = sys.argv[1:]
    if any(a != "--no-peers" for a in args):
        sys.exit("usage: table.py [--no-peers] < convpool-bench --json output")
    peers = "--no-peers" not in args
    header, rows = "", []
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("#"):
            header = line.lstrip("# ")
        elif line.startswith("{"):
            rows.append(json.loads(line))
    print(f"<!-- {header} -->")
    backward = [r for r in rows if BWD in r["case"]]
    rows = [r for r in rows if BWD not in r["case"]]
    if backward:
        print_backward(backward)
        if not rows:
            return
        print()
    peer_head = " best peer ms | ours / peer |" if peers else ""
    print("| case | threads | ours ms: median (fastest) | rate | % of peak "
          f"| oneDNN ms: median (fastest) | ours / oneDNN |{peer_head}")
    print("|---|---|---|---|---|---|---|" + ("---|---|" if peers else ""))
    for name, case_rows in by_case(rows):
        for r in case_rows:
            ours, peer = r["ours_ms"], r["best_peer_ms"]
            label = name
            if r["op"] in LP_POOLS:  # oneDNN has no Lp pooling: say what it ran instead
                label += " (vs oneDNN's avg pool)"
            peer_cells = f' {fmt(peer)} | {fmt(ours / peer, 2) if peer else "-"} |' if peers else ""
            print(f'| {label} | {r["threads"]} | {measured_cells(r)} |{peer_cells}')
    if any(r["op"] in LP_POOLS for r in rows):
        print()
        print("oneDNN has no Lp pooling: the LpPool rows compare with its average pooling "
              "(pads included) of the same window, stride and pads, the same sum over the same "
              "taps without the powers and the root.")
    print_targets("**Targets** (from the table above):", targets(rows, peers))
    print_targets("**ConvTranspose and LpPool targets** (from the table above):",
                  conv_transpose_lp_targets(rows))


def print_targets(title, items):
    """A titled list of target verdicts after a blank line; nothing without items."""
    if items:
        print()
        print(title)
        print()
        print("\n".join(items))


LARGE_CONVS = ["stem", "r3x3", "r1x1a", "r1x1b", "r3x3_28", "r3x3_s2", "r3x3_7", "b8_r3x3"]
LP_POOLS = ["LpPool", "GlobalLpPool"]
POOLS_2X = ["dw112", "dw56s2", "maxpool_stem", "maxpool_vgg", "avgpool", "avgpool3_pad"]
# oneDNN's NCHW pooling time over its time on its own blocked layout (no reorders), from
# ../shared/bench/README.md: how much faster than oneDNN NCHW the memory system allows
POOLS_BLOCKED = {"maxpool_stem": 2.8, "maxpool_vgg": 3.5, "avgpool": 3.4, "avgpool3_pad": 2.1,
                 "gap": 3.0}
# tools/bench/cases-large.json: working sets far beyond L2
LARGE_3X3 = ["vgg_c1", "vgg_c2", "vgg_c3", "vgg_c4", "hires64", "unet_c2"]
LARGE_ALL = LARGE_3X3 + ["hires_1x1", "maxpool_hires"]
LARGE_PEAK = {1: 85, 2: 80}  # % of the measured FMA peak, by thread count


def large_targets(by, out):
    """The large-activation targets (cases-large.json), where its rows are."""
    for th in (1, 2):
        got = [by[(c, th)] for c in LARGE_3X3
               if (c, th) in by and by[(c, th)]["percent_of_peak"] is not None]
        if got:
            out.append(peak_verdict(got, LARGE_PEAK[th], "large activations: every 3x3 case",
                                    th))
    for th in (1, 2):
        mine = [by[(c, th)] for c in LARGE_ALL if (c, th) in by and by[(c, th)]["onednn_ms"]]
        if mine:
            out.append(as_fast_verdict(mine, "onednn_ms", "large activations: no case slower "
                                       "than oneDNN in the same run", th))


INDICES = "+Indices"  # MaxPool rows timed with the Indices output too
INDICES_MAX_RATIO = 1.3  # of the same case's value-only time


def indices_targets(by, out):
    """MaxPool with Indices within 1.3x of the value-only time, where such rows are."""
    for th in (1, 2):
        pairs = []
        for (c, t), r in by.items():
            base = (c[:-len(INDICES)], t)
            if t == th and c.endswith(INDICES) and base in by:
                pairs.append((base[0], r["ours_ms"] / by[base]["ours_ms"]))
        if pairs:
            out.append(verdict_item(
                all(v <= INDICES_MAX_RATIO for _, v in pairs),
                f"MaxPool with Indices within {INDICES_MAX_RATIO}x of the value-only time, "
                f"{threads_text(th)}: " + ", ".join(f"{c} {v:.2f}x" for c, v in pairs) + "."))


def targets(rows, peers=True):
    """The speed targets, evaluated on `rows`, as Markdown list items; those against the
    best peer only with `peers`."""
    by = {(r["case"], r["threads"]): r for r in rows}
    compared = [r for r in rows if r["best_peer_ms"]]  # the suite's cases
    out = []

    def verdict(ok, text):
        out.append(verdict_item(ok, text))

    against = [("onednn_ms", "oneDNN in the same run", "oneDNN's")]
    if peers:
        against.insert(0, ("best_peer_ms", "the best NCHW peer", "peer's"))
    for key, who, whose in against:
        for th in (1, 2):
            mine = [r for r in compared if r["threads"] == th and r[key]]
            if mine:  # not with --only and none of them, nor on cases-large.json's rows
                out.append(as_fast_verdict(mine, key, f"every case at least as fast as {who}",
                                           th, whose))
    for th in (1, 2):
        got = [(c, by[(c, th)]["percent_of_peak"]) for c in LARGE_CONVS if (c, th) in by]
        if got and all(v is not None for _, v in got):
            verdict(all(v >= 90 for _, v in got), "large convolutions at >= 90% of the measured "
                    f'FMA peak, {th} thread{"s" if th > 1 else ""}: ' +
                    ", ".join(f"{c} {v:.0f}%" for c, v in got) + ".")
    for th in (1, 2) if peers else ():
        got = [(c, by[(c, th)]["best_peer_ms"] / by[(c, th)]["ours_ms"])
               for c in POOLS_2X + ["gap"] if (c, th) in by]
        if not got:
            continue
        short = [c for c, v in got if v < (1.2 if c == "gap" else 2.0)]
        verdict(not short, "depthwise and pools >= 2x the best peer (gap >= 1.2x), "
                f'{th} thread{"s" if th > 1 else ""} (peer\'s time / ours): ' +
                ", ".join(f'{c} {v:.2f}x{" (short)" if c in short else ""}' for c, v in got) +
                ".")
    large_targets(by, out)
    indices_targets(by, out)
    for th in (1, 2):
        got = [(c, by[(c, th)]["onednn_ms"] / by[(c, th)]["ours_ms"], need)
               for c, need in POOLS_BLOCKED.items() if (c, th) in by and by[(c, th)]["onednn_ms"]]
        if got:
            verdict(all(v >= need for _, v, need in got),
                    "pools at oneDNN's blocked-layout speed, NCHW kept: oneDNN NCHW's time / "
                    f"ours at least oneDNN's NCHW / blocked ratio, {threads_text(th)}: " +
                    ", ".join(f'{c} {v:.2f}x{"" if v >= need else f" (short of {need}x)"}'
                              for c, v, need in got) + ".")
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
    print_targets("**Backward-pass targets** (from the table above; ratios are our time / "
                  "oneDNN's, so above 1 is slower):", backward_targets(rows))


def backward_targets(rows):
    """The backward passes' speed targets, evaluated on `rows`, as Markdown list items:
    at 1 and 2 threads, every Conv case's dx and dw at least as fast as oneDNN's and
    >= 75% of the FMA peak on the large cases; pool backward at least as fast as
    oneDNN's."""
    by = {(r["case"], r["threads"]): r for r in rows}
    out = []

    def as_fast_as_dnnl(mine, what, th):
        if mine:
            out.append(as_fast_verdict(mine, "onednn_ms", f"{what} at least as fast as oneDNN's",
                                       th, label=lambda r: split_pass(r["case"])[0]))

    for suffix, what in (("+bwd_data", "dx (backward data)"),
                         ("+bwd_weights", "dw and db (backward weights)")):
        for th in (1, 2):
            as_fast_as_dnnl([r for r in rows if r["op"] == "Conv" and r["threads"] == th
                             and r["case"].endswith(suffix)], f"every Conv case's {what}", th)
        for th in (1, 2):
            got = [by[(c + suffix, th)] for c in LARGE_CONVS if (c + suffix, th) in by]
            if got and all(r["percent_of_peak"] is not None for r in got):
                out.append(peak_verdict(got, 75, f"{what} of the large convolutions", th,
                                        label=lambda r: split_pass(r["case"])[0]))
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
    for th in (1, 2):
        mine = [r for r in rows if r["op"] == "ConvTranspose" and r["threads"] == th and
                r["onednn_ms"]]
        if mine:
            out.append(as_fast_verdict(mine, "onednn_ms", "every ConvTranspose case at least as "
                                       "fast as oneDNN's deconvolution in the same run", th))
    for th in (1, 2):
        # GFLOP/s * ms = MFLOP
        big = [r for r in rows if r["op"] == "ConvTranspose" and r["threads"] == th and
               r.get("gflops") and r["gflops"] * r["ours_ms"] >= 100 and
               r["percent_of_peak"] is not None]
        if big:
            out.append(peak_verdict(big, 80, "ConvTranspose cases of >= 100 MFLOP", th))
    for th in (1, 2):
        mine = [r for r in rows if r["op"] in LP_POOLS and r["threads"] == th and r["onednn_ms"]]
        if mine:
            out.append(as_fast_verdict(mine, "onednn_ms", "LpPool and GlobalLpPool at least as "
                                       "fast as oneDNN's average pooling of the same window "
                                       "(oneDNN has no Lp pooling)", th))
    return out


if __name__ == "__main__":
    main()
