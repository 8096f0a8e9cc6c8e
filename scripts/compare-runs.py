#!/usr/bin/env python3
"""Compare the results of two runs of the same experiments, ignoring what only records how
they were produced (run keys, git revision, mlsim version).

    scripts/compare-runs.py BEFORE AFTER

BEFORE and AFTER are results directories (each with a runs.jsonl) or folders that hold such
directories at any depth; directories are paired by their path below BEFORE and AFTER. Prints
each difference (run, field, before, after) and exits 1 if there is any; numbers must be
equal exactly (a refactor that changes no model must change no number). Use it around a
change: run the headline configs into one folder before, into another after, then compare.
"""
import json
import os
import sys

IGNORED = {"key", "git_revision", "mlsim_version"}


def runs_files(root):
    if os.path.isfile(os.path.join(root, "runs.jsonl")):
        yield ""
        return
    for dirpath, _dirs, files in sorted(os.walk(root)):
        if "runs.jsonl" in files:
            yield os.path.relpath(dirpath, root)


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def strip(record):
    return {k: v for k, v in record.items() if k not in IGNORED}


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    before, after = sys.argv[1], sys.argv[2]
    differences = 0
    compared = 0
    for rel in runs_files(before):
        a_path = os.path.join(before, rel, "runs.jsonl")
        b_path = os.path.join(after, rel, "runs.jsonl")
        if not os.path.isfile(b_path):
            print(f"{rel or '.'}: missing in {after}")
            differences += 1
            continue
        a, b = load(a_path), load(b_path)
        if len(a) != len(b):
            print(f"{rel or '.'}: {len(a)} runs before, {len(b)} after")
            differences += 1
        for ra, rb in zip(a, b):
            sa, sb = strip(ra), strip(rb)
            if sa == sb:
                continue
            differences += 1
            for field in sorted(set(sa) | set(sb)):
                if sa.get(field) == sb.get(field):
                    continue
                va, vb = sa.get(field), sb.get(field)
                if isinstance(va, dict) and isinstance(vb, dict):
                    for name in sorted(set(va) | set(vb)):
                        if va.get(name) != vb.get(name):
                            print(f"{rel or '.'} run {ra.get('run')}: {field}.{name}: "
                                  f"{str(va.get(name))[:80]} -> {str(vb.get(name))[:80]}")
                else:
                    print(f"{rel or '.'} run {ra.get('run')}: {field}: "
                          f"{str(va)[:80]} -> {str(vb)[:80]}")
        compared += len(a)
    print(f"{compared} runs compared, {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
