#!/usr/bin/env python3
"""Faults on every dependency, through the README's local loop.

The functions run under `cargo lambda watch` against the local stack; a fault-injecting
proxy sits in front of the AWS emulator and of each provider (fake Zendesk, SendGrid,
Slack and Claude), and replaces a share of the requests (--rate, default 10 %) with a
5xx, a throttling answer (429 with Retry-After, or AWS's own form), a slow answer, or a
dropped connection. Webhooks are delivered as Zendesk does (retried on failure), the
queues are pumped as Lambda's event sources do (a failed record returns; after the
queue's maxReceiveCount it moves to the dead-letter queue).

Then, a crash: the triage function is killed right after Zendesk accepted a note and
before the function learned of it; the redelivery must finish the ticket without a
second note.

Every ticket must end decided (and applied) or in a dead-letter queue with its reason
logged; none twice; no note, e-mail or Slack message twice. Prints the figures.

Usage: scripts/fault_run.py [--webhooks 1000] [--rate 0.1] [--crashes 10]
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT / "scripts"))
import local_stack  # noqa: E402
from fakes import Fakes, FaultProxy, RuntimeApi  # noqa: E402


def post(url, data, timeout=300):
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=timeout).read() or b"{}")


def deliver(url, event_file, attempts=8):
    """A webhook delivery as Zendesk makes it: signed when sent, retried (same
    invocation id) until 2xx."""
    event = json.loads(event_file.read_text())
    for attempt in range(attempts):
        try:
            answer = post(url, json.dumps(local_stack.signed(event)).encode())
            if answer.get("statusCode", 500) < 300:
                return attempt, answer["statusCode"]
        except (OSError, ValueError):
            pass
        time.sleep(min(2 ** attempt * 0.2, 3))
    return attempts, None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhooks", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.10)
    parser.add_argument("--crashes", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="fault-run-"))
    env = dict(os.environ, LOCAL_STACK_DIR=str(work / "stack"), PATH=f"{VENV}:{os.environ['PATH']}")
    env.pop("AWS_ENDPOINT_URL", None)
    port = local_stack.free_port()
    subprocess.run([str(ROOT / "scripts" / "local-stack"), "up", "--port", str(port), "--env-file",
                    str(work / "env.json")], cwd=ROOT, env=env, check=True, capture_output=True)
    env.update(local_stack.read_env(work / "stack"))

    crash = {"process": None, "killed": 0}

    def on_note(number):
        # The note is on the ticket; the function dies before it learns so.
        p = crash["process"]
        if p is not None and p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            crash["killed"] += 1

    fakes = Fakes(on_note=on_note)
    fake_port = fakes.serve().server_address[1]
    proxies = {name: FaultProxy(name, up, args.rate, slow=5.0, seed=i + 1)
               for i, (name, up) in enumerate([("aws", port), ("zendesk", fake_port), ("sendgrid", fake_port),
                                               ("slack", fake_port), ("claude", fake_port)])}
    at = {name: f"http://127.0.0.1:{p.serve().server_address[1]}" for name, p in proxies.items()}
    env.update({
        "AWS_ENDPOINT_URL": at["aws"],
        "ZENDESK_BASE_URL": at["zendesk"], "ZENDESK_EMAIL": "agent@acme.test", "ZENDESK_API_TOKEN": "t",
        "ZENDESK_TIMEOUT_SECS": "3",
        "SENDGRID_API_KEY": "SG.test", "SENDGRID_BASE_URL": at["sendgrid"],
        "SLACK_WEBHOOK_URL": f"{at['slack']}/services/T1/B1/X1",
        "ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": at["claude"], "LLM_MODE": "hybrid",
        "RUST_LOG": "info",
    })
    watch_port = local_stack.free_port()
    log = work / "watch.log"
    watcher = subprocess.Popen([str(VENV / "cargo-lambda"), "lambda", "watch", "-A", "127.0.0.1", "-P",
                                str(watch_port)], cwd=ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        run(args, work, env, watch_port, fakes, proxies, crash, log)
    finally:
        os.killpg(watcher.pid, signal.SIGTERM)
        subprocess.run([str(ROOT / "scripts" / "local-stack"), "down"], cwd=ROOT, env=env, capture_output=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def pump(env, watch_port):
    out = subprocess.run([str(ROOT / "scripts" / "local-stack"), "pump", "--invoke-port", str(watch_port),
                          "--timeout", "3600"], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"pump failed: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(args, work, env, watch_port, fakes, proxies, crash, log):
    invoke = f"http://127.0.0.1:{watch_port}/2015-03-31/functions/webhook-intake/invocations"
    if not local_stack.http_serving(watch_port):
        sys.exit(f"cargo lambda watch did not start; see {log}")
    tickets = work / "tickets.csv"
    subprocess.run([str(ROOT / "target" / "debug" / "triage"), "generate", "--count", str(args.webhooks + args.crashes),
                    "--out", str(tickets), "--seed", "11"], cwd=ROOT, check=True, capture_output=True)
    hooks = work / "hooks"
    subprocess.run([str(ROOT / "scripts" / "local-stack"), "webhooks", str(tickets), str(hooks), "--first", "100001"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    files = sorted(hooks.iterdir(), key=lambda p: int(p.stem.split("-")[1]))
    main_files, crash_files = files[:args.webhooks], files[args.webhooks:]

    started = time.time()
    retries = Counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for attempts, status in pool.map(lambda f: deliver(invoke, f), main_files):
            retries[attempts] += 1
    undelivered = retries.get(8, 0)
    delivered_at = time.time()
    figures = pump(env, watch_port)
    finished = time.time()

    state = json.loads((work / "stack" / "state.json").read_text())
    direct = f"http://127.0.0.1:{state['port']}"
    res = state["resources"]
    ddb = local_stack.boto("dynamodb", direct)
    sqs = local_stack.boto("sqs", direct)

    def dlq_tickets():
        out = Counter()
        for q in ("TriageDeadLetterQueue", "AlertsDeadLetterQueue"):
            while True:
                got = sqs.receive_message(QueueUrl=res[q], MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", [])
                if not got:
                    break
                for m in got:
                    body = json.loads(m["Body"]) if m["Body"].startswith("{") else {}
                    out[(q, body.get("ticket_id") or body.get("alert_id") or "?")] += 1
        return out

    def outcome(numbers):
        decided, completed = set(), set()
        for n in numbers:
            item = ddb.get_item(TableName=res["TicketTable"], Key={"pk": {"S": f"TICKET#{n}"}, "sk": {"S": "META"}}).get("Item", {})
            if "decision" in item:
                decided.add(n)
            if item.get("completed", {}).get("BOOL"):
                completed.add(n)
        return decided, completed

    numbers = [f.stem.split("-")[1] for f in main_files]
    decided, completed = outcome(numbers)
    in_dlq = dlq_tickets()
    dlq_ids = {t for (q, t) in in_dlq if q == "TriageDeadLetterQueue"}
    lost = [n for n in numbers if n not in completed and n not in dlq_ids]
    twice_noted = [n for n, c in fakes.notes.items() if c > 1]
    email_twice = [a for a, c in fakes.emails.items() if c > 1]
    slack_twice = [k for k, c in fakes.slack.items() if c > 1]
    alerts_sent = sum(1 for _ in fakes.emails)
    reasons = Counter(re.sub(r"\d+", "#", m) for m in re.findall(r'reason="?([^"\n]{0,90})', log.read_text()) if "poison" in m or True)

    print(f"fault run: {args.webhooks} webhooks, {args.rate:.0%} of requests to every dependency faulted")
    print(f"  delivered in {delivered_at - started:.0f} s ({sum(v for k, v in retries.items() if k > 0)} needed a retry; "
          f"{undelivered} never accepted), pumped in {finished - delivered_at:.0f} s")
    print(f"  tickets: {len(completed)} decided and applied, {len(dlq_ids)} in the triage dead-letter queue, "
          f"{len(lost)} lost; {len(decided) - len(completed)} decided but not applied")
    print(f"  duplicates: {len(twice_noted)} tickets noted twice, {fakes.refused_duplicate_notes} second notes refused, "
          f"{len(email_twice)} e-mails twice, {len(slack_twice)} Slack messages twice; {alerts_sent} alerts e-mailed")
    print(f"  dead-letter queues: {dict(Counter(q for (q, _) in in_dlq))}")
    for name, p in proxies.items():
        print(f"  {name:<9} {p.requests:>6} requests, faults {dict(p.faults)}, {p.delay_added:.0f} s of delay added")
    print(f"  functions: {figures['functions']}")

    # The crash: the triage function, run as Lambda runs it (its runtime API here),
    # is killed right after Zendesk accepted a note, before the function recorded it.
    for p in proxies.values():
        p.rate = 0.0
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda f: deliver(invoke, f), crash_files))
    messages = []
    while len(messages) < len(crash_files):
        got = sqs.receive_message(QueueUrl=res["TriageQueue"], MaxNumberOfMessages=10, VisibilityTimeout=3,
                                  AttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        messages += got
    arn = sqs.get_queue_attributes(QueueUrl=res["TriageQueue"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    api = RuntimeApi()
    function_env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address, AWS_LAMBDA_FUNCTION_NAME="triage-function",
                        AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512")
    crash["process"] = subprocess.Popen([str(ROOT / "target" / "debug" / "triage-function")], env=function_env,
                                        stdout=(work / "crash.log").open("w"), stderr=subprocess.STDOUT)
    api.events.put(local_stack.sqs_event(messages, arn))
    crash["process"].wait(timeout=120)
    crash["process"] = None
    noted_before = sum(fakes.notes[f.stem.split("-")[1]] for f in crash_files)
    # The batch was never answered: SQS hands its records out again, to a new instance.
    time.sleep(3.5)
    pump(env, watch_port)
    crash_numbers = [f.stem.split("-")[1] for f in crash_files]
    _, crash_completed = outcome(crash_numbers)
    crash_twice = [n for n in crash_numbers if fakes.notes[n] > 1]
    print(f"crash run: the triage function killed {crash['killed']} time(s) right after Zendesk took a note "
          f"({noted_before} of {len(crash_numbers)} tickets noted before the crash); on redelivery "
          f"{len(crash_completed)}/{len(crash_numbers)} tickets finished, {len(crash_twice)} noted twice, "
          f"{fakes.refused_duplicate_notes} second notes attempted in all")

    failed = lost or twice_noted or email_twice or slack_twice or crash_twice or undelivered \
        or len(crash_completed) != len(crash_numbers) or not crash["killed"]
    if failed:
        print(f"FAILED: lost {lost[:10]}, twice {twice_noted[:10]}, crash twice {crash_twice}; see {log}")
        sys.exit(1)


if __name__ == "__main__":
    main()
