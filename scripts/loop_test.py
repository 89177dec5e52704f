#!/usr/bin/env python3
"""The README's local loop, run as the README tells a user to run it:

    scripts/local-stack up
    source .local-stack/env.sh
    cargo lambda watch -A 127.0.0.1 &
    scripts/local-stack webhooks data/tickets_input.csv /tmp/hooks
    cargo lambda invoke webhook-intake --data-file /tmp/hooks/webhook-9001.json -A 127.0.0.1
    scripts/local-stack pump
    cargo lambda invoke report-builder --data-file events/report-manual.json -A 127.0.0.1

with 40 signed webhooks (the 30 sample tickets and 10 of the development set), some
delivered twice (Zendesk retries; SQS redelivers), then checks what a user would see:
every ticket decided and completed once, nothing in a dead-letter queue, one e-mail
per alert, and a report whose presigned link opens. Prints the figures.

The stack and the watcher run on free ports in a temporary directory, so that a
developer's own local stack is left alone.
"""

import csv
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT / "scripts"))
import local_stack  # noqa: E402


def fail(message, log=None):
    print(f"local loop: {message}")
    if log is not None and log.exists():
        print(log.read_text()[-4000:])
    sys.exit(1)


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="local-loop-"))
    stack_dir = work / "stack"
    env = dict(os.environ, LOCAL_STACK_DIR=str(stack_dir), PATH=f"{VENV}:{os.environ['PATH']}")
    env.pop("AWS_ENDPOINT_URL", None)
    port = local_stack.free_port()
    watch_port = local_stack.free_port()
    stack = subprocess.run([str(ROOT / "scripts" / "local-stack"), "up", "--port", str(port),
                            "--env-file", str(work / "env.json")], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    if stack.returncode != 0:
        fail(f"scripts/local-stack up failed:\n{stack.stdout}{stack.stderr}")
    env.update(local_stack.read_env(stack_dir))  # `source .local-stack/env.sh`
    log = work / "watch.log"
    watcher = subprocess.Popen(
        [str(VENV / "cargo-lambda"), "lambda", "watch", "-A", "127.0.0.1", "-P", str(watch_port)],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        run(work, env, watch_port, log)
    finally:
        os.killpg(watcher.pid, signal.SIGTERM)
        subprocess.run([str(ROOT / "scripts" / "local-stack"), "down"], cwd=ROOT, env=env,
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def invoke(function, data_file, env, watch_port, log):
    out = subprocess.run(
        [str(VENV / "cargo-lambda"), "lambda", "invoke", function, "--data-file", str(data_file),
         "-A", "127.0.0.1", "-P", str(watch_port)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        fail(f"cargo lambda invoke {function} failed: {out.stderr[-2000:]}", log)
    return json.loads(out.stdout)


def run(work, env, watch_port, log):
    if not local_stack.http_serving(watch_port):
        fail("cargo lambda watch did not start", log)

    tickets = work / "tickets.csv"
    rows = list(csv.DictReader(open(ROOT / "data" / "tickets_input.csv", newline="")))
    rows += list(csv.DictReader(open(ROOT / "data" / "dev" / "dev_tickets.csv", newline="")))[:10]
    with open(tickets, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    hooks = work / "hooks"
    subprocess.run([str(ROOT / "scripts" / "local-stack"), "webhooks", str(tickets), str(hooks)],
                   cwd=ROOT, env=env, check=True, capture_output=True)

    started = time.time()
    answers = {}
    files = sorted(hooks.iterdir())
    for f in files:
        answers[f.name] = invoke("webhook-intake", f, env, watch_port, log)["statusCode"]
    # Zendesk retries a delivery; another webhook fires for the same ticket.
    again = [invoke("webhook-intake", f, env, watch_port, log)["statusCode"] for f in files[:5]]
    if sorted(set(answers.values())) != [202] or set(again) != {200}:
        fail(f"webhook answers: first {sorted(set(answers.values()))}, again {again}", log)

    # SQS delivers at least once: the same tickets queued a second time.
    state = json.loads((pathlib.Path(env["LOCAL_STACK_DIR"]) / "state.json").read_text())
    endpoint = f"http://127.0.0.1:{state['port']}"
    sqs = local_stack.boto("sqs", endpoint)
    res = state["resources"]
    for f in files[:8]:
        number = f.stem.split("-")[1]
        body = json.dumps({"version": 1, "ticket_id": number, "invocation_id": f"inv-{number}"})
        sqs.send_message(QueueUrl=res["TriageQueue"], MessageBody=body)

    pumped = subprocess.run([str(ROOT / "scripts" / "local-stack"), "pump", "--invoke-port",
                             str(watch_port)], cwd=ROOT, env=env, capture_output=True, text=True)
    if pumped.returncode != 0:
        fail(f"pump failed: {pumped.stderr}", log)
    figures = json.loads(pumped.stdout.strip().splitlines()[-1])

    ddb = local_stack.boto("dynamodb", endpoint)
    decided = completed = 0
    for f in files:
        number = f.stem.split("-")[1]
        item = ddb.get_item(TableName=res["TicketTable"],
                            Key={"pk": {"S": f"TICKET#{number}"}, "sk": {"S": "META"}}).get("Item", {})
        decided += "decision" in item
        completed += item.get("completed", {}).get("BOOL", False)
    s3 = local_stack.boto("s3", endpoint)
    emails = s3.list_objects_v2(Bucket=res["ReportBucket"], Prefix="emails/").get("KeyCount", 0)
    recorded = [o["Key"] for o in s3.list_objects_v2(Bucket=res["ReportBucket"], Prefix="zendesk-calls/")
                .get("Contents", [])]
    # One recorded update per ticket; a problem ticket of an incident is recorded apart.
    calls = sum(1 for k in recorded if not k.startswith("zendesk-calls/create-"))
    problems = len(recorded) - calls
    alerts = 0
    for page in ddb.get_paginator("scan").paginate(TableName=res["TicketTable"]):
        alerts += sum(1 for i in page["Items"] if i["pk"]["S"].startswith("ALERT#"))
    dlq = sum(figures["dead_letter_queues"].values())
    if decided != len(files) or completed != len(files) or dlq or emails != alerts or calls != len(files):
        fail(f"{decided} decided, {completed} completed of {len(files)}; {dlq} in dead-letter queues; "
             f"{emails} e-mails for {alerts} alerts; {calls} recorded Zendesk updates; {figures}", log)

    report = invoke("report-builder", ROOT / "events" / "report-manual.json", env, watch_port, log)
    page = urllib.request.urlopen(report["link"], timeout=10).read().decode()
    if "Support triage dashboard" not in page or f"{len(files)} tickets" not in page:
        fail(f"the report link does not open the dashboard of {len(files)} tickets: {report}", log)
    print(
        f"local loop (cargo lambda watch): {len(files)} signed webhooks, 202 each, 5 redeliveries "
        f"answered 200; {decided}/{len(files)} decided and completed, 8 duplicate queue messages "
        f"absorbed, {dlq} in dead-letter queues; {alerts} alerts, {emails} e-mails, {problems} incident "
        f"problem ticket(s) recorded; report link opens "
        f"({time.time() - started:.1f} s; {figures['functions']})")


if __name__ == "__main__":
    main()
