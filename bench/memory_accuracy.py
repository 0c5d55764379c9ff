#!/usr/bin/env python3
"""Accuracy of memory estimates against a live server's MEMORY USAGE.

    memory_accuracy.py PORT NAME=CSV [NAME=CSV ...]

Each CSV has the rdbtools columns (database,type,key,size_in_bytes,...). The key
column holds the key as rdbtools writes it (plain text) or as rdbkit writes it (JSON
text); both are read. For every key of every CSV, MEMORY USAGE key SAMPLES 0 is asked
from the server on 127.0.0.1:PORT (which must hold the dump both CSVs were made from),
and one Markdown row per tool is printed: keys, share exact, median and p90 of the
relative error, error of the total.
"""

import csv
import json
import sys

import redis


def key_of(text):
    """rdbkit writes JSON text, rdbtools the key itself."""
    if text.startswith('"') or text.startswith("{"):
        try:
            v = json.loads(text)
            if isinstance(v, str):
                return v.encode()
        except ValueError:
            pass
    return text.encode()


def main():
    port = int(sys.argv[1])
    server = redis.Redis(host="127.0.0.1", port=port, protocol=2)
    print("| tool | keys | exact | median | p90 | total |")
    print("|---|---|---|---|---|---|")
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        errors, truth_total, est_total = [], 0, 0
        for start in range(0, len(rows), 5000):
            chunk = rows[start:start + 5000]
            pipe = server.pipeline(transaction=False)
            for r in chunk:
                pipe.execute_command("SELECT", r["database"])
                pipe.execute_command("MEMORY", "USAGE", key_of(r["key"]), "SAMPLES", "0")
            replies = pipe.execute()[1::2]
            for r, truth in zip(chunk, replies):
                if truth is None:
                    continue
                est = int(r["size_in_bytes"])
                errors.append(abs(est - truth) / truth)
                truth_total += truth
                est_total += est
        errors.sort()
        n = len(errors)
        exact = sum(1 for e in errors if e == 0) / n
        median, p90 = errors[n // 2], errors[int(n * 0.9)]
        total = (est_total - truth_total) / truth_total
        print(f"| {name} | {n} | {exact * 100:.1f}% | {median * 100:.2f}% | {p90 * 100:.2f}% | {total * 100:+.2f}% |")


if __name__ == "__main__":
    main()
