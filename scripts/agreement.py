#!/usr/bin/env python3
"""Agreement between two labellings of the same tickets: the first labels (the batches'
own) and a second, independent labelling. Prints raw agreement and Cohen's kappa for
each label, the priority confusion and how often the two were within one level.

Usage: scripts/agreement.py SECOND.csv FIRST.csv [FIRST.csv ...]
"""
import csv
import sys
from collections import Counter

FIELDS = ["actual_priority", "actual_team", "actual_churn", "actual_opportunity"]


def kappa(pairs):
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    return observed, (observed - expected) / (1 - expected) if expected < 1 else 1.0


def main():
    second = {r["ticket_id"]: r for r in csv.DictReader(open(sys.argv[1], newline=""))}
    first = {}
    for path in sys.argv[2:]:
        for r in csv.DictReader(open(path, newline="")):
            first[r["ticket_id"]] = r
    ids = [i for i in second if i in first]
    print(f"{len(ids)} tickets labelled twice")
    for field in FIELDS:
        pairs = [(first[i][field], second[i][field]) for i in ids]
        observed, k = kappa(pairs)
        print(f"{field:<20} agreement {observed:.3f}  Cohen's kappa {k:.3f}")
    levels = ["P0", "P1", "P2", "P3"]
    pairs = [(first[i]["actual_priority"], second[i]["actual_priority"]) for i in ids]
    within = sum(abs(levels.index(a) - levels.index(b)) <= 1 for a, b in pairs) / len(pairs)
    print(f"priority within one level {within:.3f}")
    print("first \\ second   " + "  ".join(f"{l:>4}" for l in levels))
    for a in levels:
        print(f"{a:<16} " + "  ".join(f"{sum(1 for x, y in pairs if x == a and y == b):>4}" for b in levels))
    p0_first = [b for a, b in pairs if a == "P0"]
    print(f"P0 by the first labels: the second labeller also said P0 for {p0_first.count('P0')} of {len(p0_first)}")


if __name__ == "__main__":
    main()
