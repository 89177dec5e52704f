#!/usr/bin/env python3
"""Accuracy side by side: the phrase rules alone, the model alone and the two combined
(the shipped policy), on labelled CSVs, with `triage eval`.

The three are the same engine under three policies: `model.enabled = false` (rules
alone); uniform costs and no guardrails (the model's most probable answer); and
data/policy.toml as shipped.

Usage: scripts/accuracy.py [--triage target/release/triage] FILE.csv [FILE.csv ...]
"""

import argparse
import json
import pathlib
import re
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def variants(workdir):
    shipped = (ROOT / "data" / "policy.toml").read_text()
    rules = re.sub(r"(\[model\]\n(?:#.*\n)*)enabled = true", r"\1enabled = false", shipped)
    uniform = re.sub(
        r"priority_costs = \[\n(?:.*\n)*?\]",
        "priority_costs = [\n  [0.0, 1.0, 1.0, 1.0],\n  [1.0, 0.0, 1.0, 1.0],\n"
        "  [1.0, 1.0, 0.0, 1.0],\n  [1.0, 1.0, 1.0, 0.0],\n]",
        shipped,
    )
    uniform = uniform.replace('rules_p0_floor = "P0"', 'rules_p0_floor = "P3"')
    uniform = uniform.replace('critical_signal_floor = "P1"', 'critical_signal_floor = "P3"')
    out = {}
    for name, text in [("phrase rules", rules), ("model alone", uniform), ("combined", shipped)]:
        path = pathlib.Path(workdir) / (name.replace(" ", "-") + ".toml")
        path.write_text(text)
        out[name] = path
    assert rules != shipped and uniform != shipped, "the policy file changed shape"
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--triage", default=str(ROOT / "target" / "release" / "triage"))
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        policies = variants(work)
        print(f"{'set':<34} {'engine':<13} {'n':>4} {'exact':>6} {'within1':>8} {'P0 rec':>7} "
              f"{'P0->P2/3':>8} {'dang.':>5} {'team':>6} {'churn':>6} {'opp':>6} {'ECE':>6}")
        for f in args.files:
            for name, policy in policies.items():
                out = subprocess.run([args.triage, "eval", "--input", f, "--policy", str(policy), "--json"],
                                     cwd=ROOT, capture_output=True, text=True, check=True)
                r = json.loads(out.stdout)
                c = r["confusion_matrix"]
                p0 = sum(c[0])
                def num(v):
                    return "     -" if v is None else f"{v:>6.3f}"
                team = (r.get("team") or {}).get("accuracy")
                churn = (r.get("churn") or {}).get("f1")
                opp = (r.get("opportunity") or {}).get("f1")
                print(f"{pathlib.Path(f).name:<34} {name:<13} {r['labelled']:>4} {r['priority_exact']:>6.3f} "
                      f"{r['priority_within_one']:>8.3f} {r['p0_recall']:>7.3f} {r['p0_decided_p2_or_lower']:>4}/{p0:<3} "
                      f"{r['dangerous_misses']:>5} {num(team)} {num(churn)} {num(opp)} "
                      f"{r['expected_calibration_error']:>6.3f}")


if __name__ == "__main__":
    main()
