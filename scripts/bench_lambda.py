#!/usr/bin/env python3
"""Cold start, warm duration, CPU, memory and AWS calls of the four functions, and
what they cost per 1,000 and 100,000 tickets.

Each release binary runs as it would in Lambda, against a minimal Lambda runtime API
served here (so the timings are the function's own: from handing out an event to
receiving its answer) and against moto server through a counting proxy (so every
DynamoDB, SQS and S3 call is counted by operation). The tickets are the labelled
development set, sent as signed Zendesk webhooks; the triage queue's messages and the
alerts queue's messages are fed back as SQS batches of 10, as deployed.

Usage: scripts/bench_lambda.py [--tickets N]   (after `cargo build --release` of the
functions; `scripts/bench --lambda` does both)
"""

import argparse
import base64
import csv
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import pathlib
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import boto3

from emulator import create_stack, free_port, start_moto
from fakes import RuntimeApi  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
RELEASE = ROOT / "target" / "release"
SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
TICK = os.sysconf("SC_CLK_TCK")

# Prices (us-east-1, on demand; ../REFERENCE.md): Lambda arm64, HTTP API, SQS,
# DynamoDB on-demand, S3 standard.
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_GB_SECOND_ARM = 0.0000133334
HTTP_API_REQUEST = 1.00 / 1e6
SQS_REQUEST = 0.40 / 1e6
DDB_WRITE_UNIT = 0.625 / 1e6
DDB_READ_UNIT = 0.125 / 1e6
S3_PUT = 0.005 / 1000
S3_GET = 0.0004 / 1000
# For the billed-duration estimate (the emulator on loopback is no fair stand-in): one
# DynamoDB/SQS/S3 round trip inside a region, and the provider calls a live deployment
# waits for: per ticket, Zendesk's tags, stamp read and update; per alert, an e-mail
# and a Slack post, sent at once.
AWS_ROUND_TRIP_S = 0.010
PROVIDER_WAIT_S = {"triage-function": 3 * 0.25, "alert-fanout": 0.3}


class QuietServer(http.server.ThreadingHTTPServer):
    """A server that does not print a trace when a client drops its connection (the
    function process is stopped while it waits for its next event)."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class Counter:
    """Counts and times the AWS calls passing through the proxy."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = {}

    def add(self, op, seconds):
        with self.lock:
            n, t = self.calls.get(op, (0, 0.0))
            self.calls[op] = (n + 1, t + seconds)

    def take(self):
        with self.lock:
            calls, self.calls = self.calls, {}
        return calls


def proxy_server(upstream, counter):
    host, port = urllib.parse.urlsplit(upstream).netloc.split(":")

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            target = self.headers.get("x-amz-target")
            if target:
                service, _, action = target.partition(".")
                op = ("DynamoDB " if service.startswith("DynamoDB") else "SQS ") + action
            else:
                op = f"S3 {self.command}"
            started = time.perf_counter()
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            counter.add(op, time.perf_counter() - started)
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    server = QuietServer(("127.0.0.1", free_port()), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss_mb(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_function(binary, events, env, memory_mb):
    """Runs one function over the events; returns its measurements and answers."""
    api = RuntimeApi()
    function_env = dict(
        env,
        AWS_LAMBDA_RUNTIME_API=api.address,
        AWS_LAMBDA_FUNCTION_NAME=binary,
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(memory_mb),
        AWS_LAMBDA_LOG_FORMAT="JSON",
    )
    log = tempfile.NamedTemporaryFile(prefix=f"{binary}-", suffix=".log", delete=False)
    started = time.perf_counter()
    process = subprocess.Popen([str(RELEASE / binary)], env=function_env, stdout=log, stderr=subprocess.STDOUT)
    durations, answers = [], []
    try:
        for i, event in enumerate(events):
            if i == 1:
                cpu_after_first = cpu_seconds(process.pid)
            api.events.put(event)
            kind, seconds, body = api.answers.get(timeout=120)
            if kind != "response":
                sys.exit(f"{binary}: {kind}: {body.decode()[:500]} (log: {log.name})")
            durations.append(seconds)
            answers.append(json.loads(body))
        cpu_total = cpu_seconds(process.pid)
        rss = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
        api.server.shutdown()
    warm = durations[1:]
    return {
        "init_ms": (api.first_poll - started) * 1000,
        "first_ms": durations[0] * 1000,
        "warm_median_ms": statistics.median(warm) * 1000,
        "warm_p90_ms": statistics.quantiles(warm, n=10)[-1] * 1000 if len(warm) > 1 else warm[0] * 1000,
        "warm_cpu_ms": (cpu_total - cpu_after_first) * 1000 / len(warm),
        "peak_rss_mb": rss,
        "invocations": len(events),
    }, answers


def webhook_event(ticket, number):
    body = json.dumps({"ticket": {
        "id": str(number),
        "subject": ticket["subject"],
        "description": ticket["description"],
        "via": ticket.get("channel") or "email",
        "organization": ticket["customer_name"],
        "organization_id": str(int(hashlib.sha1(ticket["customer_name"].encode()).hexdigest()[:8], 16)),
        "requester_email": "customer@example.com",
        "created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mrr": ticket.get("mrr") or "",
    }})
    timestamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = base64.b64encode(
        hmac.new(SECRET.encode(), (timestamp + body).encode(), hashlib.sha256).digest()
    ).decode()
    return {
        "version": "2.0", "routeKey": "POST /webhooks/zendesk", "rawPath": "/webhooks/zendesk",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "x-zendesk-webhook-id": "01HBENCH",
            "x-zendesk-webhook-invocation-id": str(uuid.uuid4()),
            "x-zendesk-webhook-signature": signature,
            "x-zendesk-webhook-signature-timestamp": timestamp,
        },
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.example",
            "domainPrefix": "bench", "requestId": str(uuid.uuid4()), "routeKey": "POST /webhooks/zendesk",
            "stage": "$default", "time": "", "timeEpoch": int(time.time() * 1000),
            "http": {"method": "POST", "path": "/webhooks/zendesk", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "Zendesk Webhook"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def item_size(value):
    """DynamoDB's size of an attribute value in bytes (as its pricing counts it)."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return len(v.strip("-").lstrip("0").replace(".", "")) // 2 + 2
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + item_size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(item_size(x) + 1 for x in v)
    return sum(len(str(x)) for x in v)  # sets


def write_units(ddb, table):
    """The mean write units per item in the table (1 KB each, rounded up)."""
    units, items = 0, 0
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            size = sum(len(k.encode()) + item_size(v) for k, v in item.items())
            units += -(-size // 1024)
            items += 1
    return units / max(items, 1)


def drain_as_batches(sqs, queue_url, arn, size=10):
    """Every message on the queue, as SQS event batches of `size`."""
    records = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                  AttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        for m in got:
            records.append({
                "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1",
                               "SentTimestamp": m["Attributes"]["SentTimestamp"],
                               "SenderId": "bench", "ApproximateFirstReceiveTimestamp": "0"},
                "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                "eventSourceARN": arn, "awsRegion": "us-east-1",
            })
    return [{"Records": records[i:i + size]} for i in range(0, len(records), size)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=300)
    args = parser.parse_args()
    for binary in ["webhook-intake", "triage-function", "alert-fanout", "report-builder"]:
        if not (RELEASE / binary).exists():
            sys.exit(f"{RELEASE / binary} is missing: cargo build --release first")
    with open(ROOT / "data" / "dev" / "dev_tickets.csv", newline="", encoding="utf-8") as f:
        tickets = list(csv.DictReader(f))
    tickets = (tickets * (args.tickets // len(tickets) + 1))[: args.tickets]

    moto, upstream = start_moto(str(VENV), os.path.join(tempfile.gettempdir(), "bench-moto.log"))
    counter = Counter()
    proxy, endpoint = proxy_server(upstream, counter)
    try:
        for k, v in {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                     "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
            os.environ.setdefault(k, v)
        stack = create_stack(upstream, f"bench-{int(time.time())}")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ZENDESK_", "SENDGRID_", "SLACK_", "ANTHROPIC_", "LLM_", "EMAIL_"))}
        env.update(stack, AWS_ENDPOINT_URL=endpoint, AWS_EC2_METADATA_DISABLED="true",
                   ZENDESK_WEBHOOK_SECRET=SECRET, RUST_LOG="warn")
        sqs = boto3.client("sqs", endpoint_url=upstream)
        counter.take()

        results, calls = {}, {}
        intake_events = [webhook_event(t, 900000 + i) for i, t in enumerate(tickets)]
        results["webhook-intake"], answers = run_function("webhook-intake", intake_events, env, 256)
        bad = [a for a in answers if a.get("statusCode") != 202]
        if bad:
            sys.exit(f"webhook-intake answered {bad[0]}")
        calls["webhook-intake"] = counter.take()

        triage_batches = drain_as_batches(sqs, stack["TRIAGE_QUEUE_URL"], "arn:aws:sqs:us-east-1:1:triage")
        counter.take()
        results["triage-function"], answers = run_function("triage-function", triage_batches, env, 512)
        failures = sum(len(a.get("batchItemFailures", [])) for a in answers)
        if failures:
            sys.exit(f"triage reported {failures} failed messages")
        calls["triage-function"] = counter.take()

        alert_batches = drain_as_batches(sqs, stack["ALERTS_QUEUE_URL"], "arn:aws:sqs:us-east-1:1:alerts")
        alerts = sum(len(b["Records"]) for b in alert_batches)
        counter.take()
        results["alert-fanout"], _ = run_function("alert-fanout", alert_batches, env, 256)
        calls["alert-fanout"] = counter.take()

        results["report-builder"], answers = run_function(
            "report-builder", [{"window_days": 1}] * 5, env, 512)
        if answers[-1].get("tickets") != len(tickets):
            sys.exit(f"report-builder saw {answers[-1].get('tickets')} tickets, expected {len(tickets)}")
        calls["report-builder"] = counter.take()
        units = write_units(boto3.client("dynamodb", endpoint_url=upstream), stack["TABLE_NAME"])
    finally:
        proxy.shutdown()
        moto.terminate()

    n = len(tickets)
    print(f"{n} tickets, {len(triage_batches)} triage batches, {alerts} alerts "
          f"({len(alert_batches)} batches), 5 report builds\n")
    print(f"{'function':<16} {'init':>7} {'1st call':>9} {'warm p50':>9} {'warm p90':>9} {'CPU/call':>9} {'peak RSS':>9} {'size':>8}")
    for name, r in results.items():
        size = (RELEASE / name).stat().st_size / 1048576
        print(f"{name:<16} {r['init_ms']:>5.1f}ms {r['first_ms']:>7.1f}ms {r['warm_median_ms']:>7.1f}ms "
              f"{r['warm_p90_ms']:>7.1f}ms {r['warm_cpu_ms']:>7.2f}ms {r['peak_rss_mb']:>6.1f} MB {size:>5.1f} MB")

    print("\nAWS calls per ticket (counted at the proxy)")
    per_ticket = {}
    for name, ops in calls.items():
        if name == "report-builder":
            continue  # per build, below
        for op, (count, _) in sorted(ops.items()):
            per_ticket[(name, op)] = count / n
            print(f"  {name:<16} {op:<32} {count / n:6.3f}")
    builds = results["report-builder"]["invocations"]
    print("AWS calls per report build")
    for op, (count, _) in sorted(calls["report-builder"].items()):
        print(f"  {'report-builder':<16} {op:<32} {count / builds:6.1f}")

    # Cost of 1,000 tickets, from the counts above and the deployed memory sizes.
    memory_gb = {"webhook-intake": 0.25, "triage-function": 0.5, "alert-fanout": 0.25, "report-builder": 0.5}
    lam_requests = lam_gbs = 0.0
    for name, r in results.items():
        if name == "report-builder":
            continue  # scheduled: a fixed monthly cost, below
        invocations_per_ticket = r["invocations"] / n
        round_trips = sum(c for (f, _), c in per_ticket.items() if f == name) / invocations_per_ticket
        if name != "webhook-intake":
            round_trips /= 10  # the records of a batch are processed concurrently
        billed = (r["warm_cpu_ms"] / 1000 + round_trips * AWS_ROUND_TRIP_S
                  + PROVIDER_WAIT_S.get(name, 0.0))
        lam_requests += invocations_per_ticket
        lam_gbs += invocations_per_ticket * billed * memory_gb[name]

    def per(prefix):
        return sum(c for (_, op), c in per_ticket.items() if op.startswith(prefix))

    # A transaction here writes two items, and transactional writes cost double.
    ddb_writes = sum(c * (4 if op == "DynamoDB TransactWriteItems" else 1)
                     for (f, op), c in per_ticket.items()
                     if op in ("DynamoDB PutItem", "DynamoDB UpdateItem", "DynamoDB DeleteItem",
                               "DynamoDB TransactWriteItems"))
    ddb_reads = sum(c for (f, op), c in per_ticket.items() if op in ("DynamoDB GetItem", "DynamoDB Query"))
    # SQS: the sends counted above, plus the receive and delete calls of the event
    # source mappings (about 2 per batch of 10).
    sqs_requests = per("SQS") + 2 * (len(triage_batches) + len(alert_batches)) / n
    s3_puts = per("S3 PUT")
    s3_gets = per("S3 GET")
    per_1000 = {
        "API Gateway HTTP API": 1000 * HTTP_API_REQUEST,
        "Lambda requests": 1000 * lam_requests * LAMBDA_REQUEST,
        "Lambda duration (arm64)": 1000 * lam_gbs * LAMBDA_GB_SECOND_ARM,
        "SQS": 1000 * sqs_requests * SQS_REQUEST,
        # Writes at the table's mean item size; each read counted as one unit.
        "DynamoDB": 1000 * (ddb_writes * units * DDB_WRITE_UNIT + ddb_reads * DDB_READ_UNIT),
    }
    # Without Zendesk or e-mail credentials the calls and e-mails are written to the
    # bucket instead of sent: an extra that a live deployment does not pay.
    recorder = 1000 * (s3_puts * S3_PUT + s3_gets * S3_GET)
    total = sum(per_1000.values())
    print(f"\nCost of the AWS side (us-east-1 on-demand list prices; round trip {AWS_ROUND_TRIP_S * 1000:.0f} ms)")
    print(f"  {'':<36} {'1,000 tickets':>14} {'100,000 tickets':>16}")
    for k, v in per_1000.items():
        print(f"  {k:<36} ${v:>13.5f} ${v * 100:>15.3f}")
    print(f"  {'total, live deployment':<36} ${total:>13.5f} ${total * 100:>15.3f}")
    print(f"  {'+ S3 when recording, not sending':<36} ${recorder:>13.5f} ${recorder * 100:>15.3f}")
    print(f"  (DynamoDB items average {units:.2f} write units; SQS adds 2 polls per batch)")
    rb = results["report-builder"]
    rb_calls = sum(c for c, _ in calls["report-builder"].values()) / rb["invocations"]
    rb_seconds = rb["warm_cpu_ms"] / 1000 + rb_calls * AWS_ROUND_TRIP_S
    rb_puts = calls["report-builder"].get("S3 PUT", (0, 0.0))[0] / rb["invocations"]
    monthly = 2880 * (LAMBDA_REQUEST + rb_seconds * memory_gb["report-builder"] * LAMBDA_GB_SECOND_ARM
                      + rb_puts * S3_PUT)
    print(f"  report-builder every 15 minutes over {n} tickets: {rb_calls:.0f} AWS calls, "
          f"~{rb_seconds * 1000:.0f} ms, ${monthly:.4f} a month")


if __name__ == "__main__":
    main()
