#!/usr/bin/env python3
"""Incident detection on generated floods: for each seed, `triage generate --flood`
writes a day of traffic (normal tickets drawn from the training corpus, outages hidden
in it, labelled `actual_incident`), `triage run` triages it in timestamp order, and
the run's metrics are scored against the labels. Prints membership precision and
recall, incidents declared from normal traffic, and how many of each outage's tickets
had arrived before its incident was declared.

    scripts/incidents.py --seeds 1 2 3 [--policy FILE] [--triage target/release/triage]
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", required=True)
    p.add_argument("--policy", help="a policy file to run with (default: the shipped one)")
    p.add_argument("--triage", default=str(ROOT / "target" / "release" / "triage"))
    p.add_argument("--json", action="store_true", help="print the totals as JSON")
    args = p.parse_args()
    totals = {"members": 0, "right": 0, "outage_tickets": 0, "found": 0, "false": 0,
              "incidents": 0, "before": [], "minutes": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            csv = pathlib.Path(tmp) / f"flood-{seed}.csv"
            out = pathlib.Path(tmp) / f"out-{seed}"
            subprocess.run([args.triage, "generate", "--flood", "--seed", str(seed), "--out", str(csv)],
                           cwd=ROOT, check=True, capture_output=True)
            cmd = [args.triage, "run", "--input", str(csv), "--out", str(out), "--demo-mode", "--quiet"]
            if args.policy:
                cmd += ["--policy", args.policy]
            subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
            m = json.loads((out / "metrics_summary.json").read_text())["incidents"]
            s = m["score"]
            tickets = sum(o["tickets"] for o in s["per_outage"])
            found = sum(o["found"] for o in s["per_outage"])
            right = round(s["precision"] * m["members"])
            totals["members"] += m["members"]
            totals["right"] += right
            totals["outage_tickets"] += tickets
            totals["found"] += found
            totals["false"] += s["false_incidents"]
            totals["incidents"] += m["declared"]
            outages = []
            for o in s["per_outage"]:
                outages.append(f"{o['outage']} {o['found']}/{o['tickets']} in {len(o['incidents'])} incident(s)"
                               + (f", declared after {o['before_declared']} tickets ({o['minutes_to_declare']} min)"
                                  if o["before_declared"] is not None else ", never declared"))
                if o["before_declared"] is not None:
                    totals["before"].append(o["before_declared"])
                    totals["minutes"].append(o["minutes_to_declare"])
            if not args.json:
                print(f"seed {seed}: {m['declared']} incidents, precision {s['precision']:.2f}, "
                      f"recall {s['recall']:.2f}, {s['false_incidents']} from normal traffic; " + "; ".join(outages))
    precision = totals["right"] / totals["members"] if totals["members"] else 1.0
    recall = totals["found"] / totals["outage_tickets"] if totals["outage_tickets"] else 1.0
    summary = {
        "seeds": args.seeds, "incidents": totals["incidents"], "precision": round(precision, 3),
        "recall": round(recall, 3), "false_incidents": totals["false"],
        "outages_declared": len(totals["before"]), "outages": 2 * len(args.seeds),
        "median_tickets_before_declared": sorted(totals["before"])[len(totals["before"]) // 2] if totals["before"] else None,
        "max_tickets_before_declared": max(totals["before"]) if totals["before"] else None,
        "median_minutes_to_declare": sorted(totals["minutes"])[len(totals["minutes"]) // 2] if totals["minutes"] else None,
    }
    print(json.dumps(summary) if args.json else
          f"all: precision {precision:.3f}, recall {recall:.3f}, {totals['false']} incidents from normal traffic, "
          f"{len(totals['before'])}/{2 * len(args.seeds)} outages declared, median {summary['median_tickets_before_declared']} "
          f"tickets (max {summary['max_tickets_before_declared']}) before the declaration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
