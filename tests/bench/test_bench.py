#!/usr/bin/python3
"""convpool-bench end to end, briefly: a few cases in 2 rounds, forward and
backward, at 1 and 2 threads, through tools/bench/table.py. Checks the rows
the tool promises (one per case and thread count, the Indices and toy(op_run)
rows, a percent of a peak measured during the case, oneDNN beside ours when
built with it) and that neither tool reports an error. A timing is never
judged: the figures depend on the machine.

    test_bench.py CONVPOOL_BENCH TABLE_PY
"""
import json
import math
import subprocess
import sys

FORWARD = ["toy", "maxpool_vgg", "r3x3_s2", "ct_dcgan32"]
BACKWARD = ["r3x3_s2", "maxpool_stem"]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or "differ" in p.stderr:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def rows_of(out):
    header = [line for line in out.splitlines() if line.startswith("#")]
    if len(header) != 1 or "2 rounds a case" not in header[0]:
        sys.exit(f"header line: {header}")
    return header[0], [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def check_rows(rows, want, with_dnnl, no_dnnl=()):
    got = {(r["case"], r["threads"]): r for r in rows}
    for key in want:
        if key not in got:
            sys.exit(f"no row {key}; rows: {sorted(got)}")
        r = got[key]
        if not r["ours_ms"] > 0 or not r["ours_min_ms"] <= r["ours_ms"]:
            sys.exit(f"{key}: times {r['ours_ms']} / fastest {r['ours_min_ms']}")
        if not (r["peak"] and r["peak"] > 0 and r["percent_of_peak"] > 0):
            sys.exit(f"{key}: peak {r['peak']}, percent {r['percent_of_peak']}")
        rate = r.get("gflops", r.get("gbytes_per_s"))
        if not math.isclose(100 * rate / r["peak"], r["percent_of_peak"], rel_tol=0.01):
            sys.exit(f"{key}: {rate} is not {r['percent_of_peak']}% of {r['peak']}")
        timed_dnnl = r["onednn_ms"] is not None
        expect = with_dnnl and not key[0].endswith(no_dnnl)
        if timed_dnnl != expect:
            sys.exit(f"{key}: oneDNN timed: {timed_dnnl}, expected {expect}")
    if len(got) != len(want):
        sys.exit(f"unexpected rows: {sorted(set(got) - set(want))}")


def main():
    bench, table = sys.argv[1], sys.argv[2]
    common = ["--repeat", "4", "--rounds", "2", "--threads", "1,2", "--json"]
    out = run([bench, "--only", ",".join(FORWARD)] + common)
    header, rows = rows_of(out)
    with_dnnl = "oneDNN " in header
    want = [(c, t) for c in FORWARD for t in (1, 2)]
    want += [("maxpool_vgg+Indices", t) for t in (1, 2)]
    check_rows([r for r in rows if r["case"] != "toy(op_run)"], want, with_dnnl,
               no_dnnl=("+Indices",))
    if not any(r["case"] == "toy(op_run)" for r in rows):
        sys.exit("no toy(op_run) row")
    md = subprocess.run([sys.executable, table, "--no-peers"], input=out, capture_output=True,
                        text=True, check=True).stdout
    if "| r3x3_s2 | 1 |" not in md:
        sys.exit(f"table.py:\n{md}")

    out = run([bench, "--backward", "--only", ",".join(BACKWARD)] + common)
    _, rows = rows_of(out)
    want = [(c + p, t) for c in BACKWARD for t in (1, 2)
            for p in (("+bwd_data", "+bwd_weights") if c.startswith("r") else
                      ("+bwd_data", "+bwd_data_x"))]
    check_rows(rows, want, with_dnnl, no_dnnl=("+bwd_data_x",))
    md = subprocess.run([sys.executable, table, "--no-peers"], input=out, capture_output=True,
                        text=True, check=True).stdout
    if "| r3x3_s2 | dw, db | 2 |" not in md:
        sys.exit(f"table.py --backward rows:\n{md}")
    print(f"convpool-bench: {len(want)} backward and the forward rows as promised "
          f"({'with' if with_dnnl else 'without'} oneDNN)")


if __name__ == "__main__":
    main()
