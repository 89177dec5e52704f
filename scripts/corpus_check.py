#!/usr/bin/env python3
"""Checks labelled ticket CSVs against data/corpus/LABELLING.md and prints their label mix.

Usage: scripts/corpus_check.py FILE.csv [FILE.csv ...]
Exits non-zero when a row breaks the format (the line and the problem are printed).
"""
import csv
import re
import sys
from collections import Counter

COLUMNS = ["ticket_id", "customer_name", "subject", "description", "actual_priority",
           "channel", "timestamp", "mrr", "actual_team", "actual_churn",
           "actual_opportunity", "actual_language"]
ALLOWED = {
    "actual_priority": {"P0", "P1", "P2", "P3"},
    "channel": {"email", "chat", "web_form", "api", "phone"},
    "actual_team": {"integrations_api", "data_analytics", "compliance_operations"},
    "actual_churn": {"yes", "no"},
    "actual_opportunity": {"yes", "no"},
}


def check(path, seen):
    problems = []
    rows = 0
    mix = {k: Counter() for k in ["actual_priority", "actual_team", "actual_churn",
                                  "actual_opportunity", "actual_language", "channel"]}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            problems.append(f"{path}: header must be exactly {','.join(COLUMNS)}")
            return rows, problems, mix
        for row in reader:
            line = reader.line_num
            rows += 1
            if None in row or any(v is None for v in row.values()):
                problems.append(f"{path}:{line}: wrong number of fields")
                continue
            tid = row["ticket_id"].strip()
            if not tid:
                problems.append(f"{path}:{line}: empty ticket_id")
            elif tid in seen:
                problems.append(f"{path}:{line}: ticket_id {tid} also at {seen[tid]}")
            seen[tid] = f"{path}:{line}"
            for col, allowed in ALLOWED.items():
                if row[col] not in allowed:
                    problems.append(f"{path}:{line}: {col} {row[col]!r} not in {sorted(allowed)}")
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row["timestamp"]):
                problems.append(f"{path}:{line}: timestamp {row['timestamp']!r} is not YYYY-MM-DD HH:MM")
            if not re.fullmatch(r"\d{1,6}", row["mrr"]) or int(row["mrr"]) > 80000:
                problems.append(f"{path}:{line}: mrr {row['mrr']!r} is not a whole number 0-80000")
            if not re.fullmatch(r"[a-z]{2}", row["actual_language"]):
                problems.append(f"{path}:{line}: actual_language {row['actual_language']!r} is not a 2-letter code")
            if len(row["description"].strip()) < 15:
                problems.append(f"{path}:{line}: description too short")
            for k in mix:
                mix[k][row[k]] += 1
    return rows, problems, mix


def main():
    seen = {}
    total = 0
    failed = False
    for path in sys.argv[1:]:
        rows, problems, mix = check(path, seen)
        total += rows
        for p in problems:
            print(p)
        failed |= bool(problems)
        print(f"{path}: {rows} tickets")
        for k, c in mix.items():
            print(f"  {k}: " + ", ".join(f"{v} {n} ({n * 100 // max(rows, 1)}%)" for v, n in sorted(c.items())))
    print(f"total: {total} tickets")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
