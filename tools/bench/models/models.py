#!/usr/bin/python3
"""Whole-model benchmark: libconvpool's model path (`convpool-run --duration S --json`) against
onnxruntime-node's session.run() on the conv/pool backbones of gen_models.py, at each thread
count, and the largest difference of our output from ONNX Runtime's relative to the output's
largest magnitude. Prints a text table, or Markdown with --markdown (README's model table).

    (cd tools/bench/models && npm ci --ignore-scripts)     # once: ONNX Runtime, pinned
    /usr/bin/python3 tools/bench/models/models.py --convpool-run build-rel/tools/convpool-run

The times are medians (and the fastest run, less disturbed on a busy machine); --profile adds
each node's time, ours and ONNX Runtime's side by side, and the median time our runs spend
outside their nodes. Models are built in a temporary directory (or --work DIR) with
gen_models.py. Each model is timed ours, ONNX Runtime, ours (--rounds R: R times ONNX Runtime
then ours; each side's best median and fastest run count) so that both see the same machine
load; ONNX Runtime runs in its own process, so neither library's idle threads spin during the
other's runs. Exit status 1 if a run fails or an error exceeds --max-error."""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_models  # noqa: E402


def ours_time(cr, models, name, threads, seconds, profile=False):
    """Our (median, fastest) ms; with profile, (median, median time outside the nodes, the nodes)."""
    cmd = [cr, "--duration", str(seconds), "--threads", str(threads), "--json",
           os.path.join(models, name + ".onnx"), "--input", os.path.join(models, name + ".x.npy")]
    if profile:
        cmd.insert(1, "--profile")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    row = json.loads([line for line in r.stdout.splitlines() if line.startswith("{")][-1])
    if profile:
        return row["median_ms"], row["outside_nodes_median_ms"], row["nodes"]
    return row["median_ms"], row["min_ms"]


def ort_time(node_modules, models, out, name, threads, seconds, profile_dir=None):
    cmd = ["node", os.path.join(HERE, "ort_models.js"), "--models", models, "--out", out,
           "--threads", str(threads), "--min-time", str(seconds), name]
    if profile_dir:
        cmd += ["--profile", profile_dir]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, NODE_PATH=node_modules))
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    row = json.loads([line for line in r.stdout.splitlines() if line.startswith("{")][-1])
    return row["median_ms"], row["min_ms"], row.get("ort")


def ort_nodes(profile_dir, name, threads):
    """ONNX Runtime's nodes from its profile, in run order: name (the generator names node i's
    output t<i>, which NCHWc nodes take as their name plus '_nchwc'; other nodes may get
    names of ONNX Runtime's), op, output shape and median kernel time in ms."""
    files = sorted(glob.glob(os.path.join(profile_dir, f"{name}.t{threads}_*.json")))
    nodes = {}
    for e in json.load(open(files[-1])):
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            key = e["name"][:-len("_kernel_time")]
            shapes = e["args"].get("output_type_shape") or [{}]
            nd = nodes.setdefault(key, dict(name=key[:-len("_nchwc")] if key.endswith("_nchwc") else key,
                                            op=e["args"].get("op_name", "?"),
                                            shape=next(iter(shapes[0].values()), None), times=[]))
            nd["times"].append(e["dur"] / 1000.0)
    for nd in nodes.values():
        nd["ms"] = sorted(nd["times"])[len(nd["times"]) // 2]
    return list(nodes.values())


def print_layers(name, threads, ours_nodes, ort):
    """Our nodes beside ONNX Runtime's: matched by name, else by op and output shape in order."""
    print(f"  {name} {threads}T, per node (medians, ms)   ours        ORT   ORT/ours")
    left = list(ort)
    for i, nd in enumerate(ours_nodes):
        match = next((o for o in left if o["name"] == f"t{i}"), None) or next(
            (o for o in left if o["op"] == nd["op_type"] and o["shape"] == nd["output_shape"]), None)
        if match:
            left.remove(match)
        r = match["ms"] if match else None
        shape = "x".join(str(d) for d in nd["output_shape"])
        ratio = f"{r / nd['median_ms']:5.2f}x" if r else "    -"
        print(f"    t{i:<3d}{nd['op_type']:18s}{shape:>14s} {nd['median_ms']:9.4f} "
              f"{r if r else float('nan'):9.4f}   {ratio}")
    for o in left:
        label = f"{o['op']} (ORT only)"
        print(f"    {label:36s}         - {o['ms']:9.4f}")


def ours_error(cr, models, out, name):
    """max |ours - ORT| / max |ORT| over the model's output (ORT's saved by ort_time)."""
    d = os.path.join(out, name + ".ours")
    cmd = [cr, os.path.join(models, name + ".onnx"), "--input", os.path.join(models, name + ".x.npy"),
           "--output-dir", d, "--output-format", "npy"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    y = np.load(os.path.join(d, "output_0.npy"))
    ref = np.load(os.path.join(out, name + ".ort.npy"))
    if y.shape != ref.shape:
        raise RuntimeError(f"{name}: our output has shape {y.shape}, ONNX Runtime's {ref.shape}")
    return float(np.max(np.abs(y - ref)) / max(1e-30, float(np.max(np.abs(ref)))))


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--convpool-run", required=True, help="the convpool-run binary to time")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--seconds", type=float, default=1.0, help="timed seconds per measurement (default 1)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="time ONNX Runtime this many times between ours (default 1: ours, ORT, ours); "
                         "each side's best median and fastest run count")
    ap.add_argument("--node-modules", default=os.path.join(HERE, "node_modules"),
                    help="where onnxruntime-node is installed (default: beside this script)")
    ap.add_argument("--work", help="directory for models and outputs (default: a temporary one)")
    ap.add_argument("--max-error", type=float, default=1e-4,
                    help="largest relative output difference accepted (default 1e-4)")
    ap.add_argument("--markdown", action="store_true", help="print README's Markdown table")
    ap.add_argument("--profile", action="store_true",
                    help="also time each node, ours (convpool-run --profile) and ONNX Runtime's (its "
                         "profiler), print them side by side, and give the median time our runs spend "
                         "outside their nodes (the model path's own cost)")
    ap.add_argument("names", nargs="*", help=f"models (default: all of {', '.join(gen_models.MODELS)})")
    a = ap.parse_args()
    names = a.names or list(gen_models.MODELS)
    unknown = [n for n in names if n not in gen_models.MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(gen_models.MODELS)}")
    if not os.path.isdir(os.path.join(a.node_modules, "onnxruntime-node")):
        ap.error(f"onnxruntime-node is not installed in {a.node_modules}: run "
                 f"`npm ci --ignore-scripts` in {HERE}")
    threads = [int(t) for t in a.threads.split(",")]
    cr = os.path.abspath(a.convpool_run)

    with tempfile.TemporaryDirectory(prefix="convpool-models-") as tmp:
        work = a.work or tmp
        models, out = os.path.join(work, "models"), os.path.join(work, "out")
        os.makedirs(models, exist_ok=True)
        for n in names:
            gen_models.build(n, *gen_models.MODELS[n], models)
        load_before = load_average()
        rows, ort_version, failed = [], None, False
        for t in threads:
            for n in names:
                prof = os.path.join(work, "profiles") if a.profile else None
                ours_runs = [ours_time(cr, models, n, t, a.seconds)]
                ort_runs = []
                for _ in range(a.rounds):
                    r, r_min, ort_version = ort_time(a.node_modules, models, out, n, t, a.seconds, prof)
                    ort_runs.append((r, r_min))
                    ours_runs.append(ours_time(cr, models, n, t, a.seconds))
                e = ours_error(cr, models, out, n)
                failed |= not e <= a.max_error
                o, o_min = (min(v) for v in zip(*ours_runs))
                r, r_min = (min(v) for v in zip(*ort_runs))
                x = dict(model=n, threads=t, ours_ms=o, ours_min=o_min, ort_ms=r, ort_min=r_min,
                         ratio=r / o, ratio_min=r_min / o_min, error=e, gap=None)
                if a.profile:
                    _, outside_ms, nodes = ours_time(cr, models, n, t, a.seconds, profile=True)
                    x["gap"] = outside_ms * 1e3
                    x["layers"] = (nodes, ort_nodes(prof, n, t))
                rows.append(x)
                if not a.markdown:
                    gap = f"  outside the nodes {x['gap']:.2f} us" if a.profile else ""
                    print(f"{n:14s} {t}T  ours {o:9.4f} ({o_min:.4f}) ms  ORT {r:9.4f} ({r_min:.4f}) ms"
                          f"  ORT/ours {x['ratio']:5.2f}x ({x['ratio_min']:.2f}x)  max|err|/max|y| {e:.1e}{gap}",
                          flush=True)
                    if a.profile:
                        print_layers(n, t, *x["layers"])
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        header = (f"{when}; onnxruntime-node {ort_version}; {os.cpu_count()} CPUs; "
                  f"load average {load_before:.2f} before, {load_average():.2f} after")
        if a.markdown:
            print(f"<!-- {header} -->")
            gap_head = " outside the nodes, µs |" if a.profile else ""
            print("| model | threads | ours ms: median (fastest) | ONNX Runtime ms: median (fastest) "
                  "| ORT / ours: median (fastest) | max rel. error |" + gap_head)
            print("|---|---|---|---|---|---|" + ("---|" if a.profile else ""))
            for x in rows:
                gap = f" {x['gap']:.2f} |" if a.profile else ""
                print(f"| {x['model']} | {x['threads']} | {x['ours_ms']:.4g} ({x['ours_min']:.4g}) "
                      f"| {x['ort_ms']:.4g} ({x['ort_min']:.4g}) | {x['ratio']:.2f}x ({x['ratio_min']:.2f}x) "
                      f"| {x['error']:.1e} |{gap}")
        else:
            print(header)
    if failed:
        print(f"an output differs from ONNX Runtime's by more than {a.max_error:g} relative", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        sys.exit(f"models.py: {e}")
