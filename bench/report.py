#!/usr/bin/env python3
"""Merges benchmark rows into one JSON file and prints them as a table (bench/README.md).

  report.py --dir RUN_DIR --out FILE.json [--quick 0|1] [--step NAME=STATUS ...]
      merge RUN_DIR/<step>.json files, add machine and commit, write FILE.json, print the table
  report.py A.json            print a merged file
  report.py A.json B.json     print two merged runs side by side with the ratio B/A
  report.py A.json --pivot cdc,ceiling [--markdown]
                              one line per case, one column per (bench, metric) of those benches
"""
import argparse
import datetime
import glob
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = ("bench", "case", "metric", "value", "unit")


def machine():
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram_gb = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram_gb,
            "kernel": platform.release(), "loadavg_1m_at_end": load}


def commit():
    def git(*args):
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True,
                              check=False).stdout.strip()
    sha = git("rev-parse", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return sha + ("-dirty" if dirty else "")


def load_rows(run_dir, problems):
    rows = []
    for path in sorted(glob.glob(os.path.join(run_dir, "*.json"))):
        step = os.path.basename(path)[:-5]
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            problems.append(f"{step}: unreadable {path}: {e}")
            continue
        if not isinstance(data, list):
            problems.append(f"{step}: {path} is not a JSON list")
            continue
        for r in data:
            if not isinstance(r, dict) or any(k not in r for k in KEYS) or \
                    not isinstance(r["value"], (int, float)):
                problems.append(f"{step}: row without {'/'.join(KEYS)} or non-numeric value: {r}")
                continue
            r.setdefault("step", step)
            rows.append(r)
    return rows


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float) and not v.is_integer():
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 10:
            return f"{v:.1f}"
        return f"{v:.3g}"
    return f"{int(v):,}"


def table(headers, lines):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *lines)] if lines else \
        [len(h) for h in headers]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)),
           "  ".join("-" * w for w in widths)]
    for ln in lines:
        out.append("  ".join(str(x).ljust(w) for x, w in zip(ln, widths)))
    return "\n".join(out)


def print_run(doc):
    m = doc.get("machine", {})
    print(f"commit {doc.get('commit')}  started {doc.get('started')}  quick={doc.get('quick')}")
    print(f"machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('ram_gb')} GiB RAM, "
          f"kernel {m.get('kernel')}, load {m.get('loadavg_1m_at_end')}")
    lines = [(r["bench"], r["case"], r["metric"], fmt(r["value"]), r["unit"], r.get("note", ""))
             for r in doc.get("rows", [])]
    print(table(("bench", "case", "metric", "value", "unit", "note"), lines))
    for step, st in sorted(doc.get("steps", {}).items()):
        if st != "ok":
            print(f"step {step}: {st}")
    for p in doc.get("problems", []):
        print(f"problem: {p}")


def compare(a, b):
    def key(r):
        return (r["bench"], r["case"], r["metric"], r["unit"])
    av = {key(r): r["value"] for r in a.get("rows", [])}
    bv = {key(r): r["value"] for r in b.get("rows", [])}
    keys = list(av) + [k for k in bv if k not in av]
    lines = []
    for k in keys:
        x, y = av.get(k), bv.get(k)
        ratio = f"{y / x:.2f}" if x and y is not None else "-"
        lines.append((k[0], k[1], k[2], fmt(x), fmt(y), k[3], ratio))
    print(f"A: {a.get('commit')} {a.get('started')}\nB: {b.get('commit')} {b.get('started')}")
    print(table(("bench", "case", "metric", "A", "B", "unit", "B/A"), lines))


def pivot(doc, benches, markdown):
    cols, cases, cells = [], [], {}
    for r in doc.get("rows", []):
        if r["bench"] not in benches:
            continue
        col = f"{r['bench']} {r['metric']}" + ("" if r["metric"].endswith(r["unit"]) else f" ({r['unit']})")
        if col not in cols:
            cols.append(col)
        if r["case"] not in cases:
            cases.append(r["case"])
        cells[(r["case"], col)] = fmt(r["value"])
    headers = ["case", *cols]
    lines = [(c, *(cells.get((c, col), "-") for col in cols)) for c in cases]
    if markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "---|" * len(headers))
        for ln in lines:
            print("| " + " | ".join(ln) + " |")
    else:
        print(table(headers, lines))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("files", nargs="*")
    p.add_argument("--dir")
    p.add_argument("--out")
    p.add_argument("--quick", default="0")
    p.add_argument("--step", action="append", default=[], help="NAME=STATUS")
    p.add_argument("--pivot", help="comma-separated bench names")
    p.add_argument("--markdown", action="store_true")
    a = p.parse_args()
    if a.dir:
        problems = []
        steps = dict(s.split("=", 1) for s in a.step)
        rows = load_rows(a.dir, problems)
        for s, st in steps.items():
            if st == "ok" and not any(r["step"] == s for r in rows):
                steps[s] = "no rows"
        doc = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "quick": a.quick == "1", "commit": commit(), "machine": machine(),
               "steps": steps, "problems": problems, "rows": rows}
        if a.out:
            with open(a.out, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1)
        print_run(doc)
        return 0
    docs = []
    for path in a.files:
        with open(path, encoding="utf-8") as f:
            docs.append(json.load(f))
    if len(docs) == 1 and a.pivot:
        pivot(docs[0], a.pivot.split(","), a.markdown)
    elif len(docs) == 1:
        print_run(docs[0])
    elif len(docs) == 2:
        compare(*docs)
    else:
        p.print_usage()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
