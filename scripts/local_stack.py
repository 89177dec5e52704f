#!/usr/bin/env python3
"""The local stack: the AWS emulator (moto server) with the resources of template.yaml,
and the settings that `sam local invoke` and `cargo lambda watch` need to use it.

    scripts/local-stack up [--port 5000]   start the emulator, create the table (keys,
                                           indexes, TTL), the queues (with redrive to
                                           their dead-letter queues) and the bucket, as
                                           template.yaml declares them; write
                                           events/env.json and .local-stack/env.sh
    scripts/local-stack down               stop it and forget its state
    scripts/local-stack status             what runs where
    scripts/local-stack sign EVENT         print EVENT (a webhook event file) signed
                                           now, with the local secret
    scripts/local-stack webhooks CSV DIR   one signed webhook event per ticket of CSV
    scripts/local-stack pump               what Lambda's SQS event source mappings do:
                                           hand the queued messages, in batches, to the
                                           functions `cargo lambda watch` serves, delete
                                           the ones they did not report as failed, until
                                           the queues are empty (failures return until
                                           the queue's redrive moves them to the DLQ)
    scripts/local-stack items [ID]         the ticket items in the table (all, or one)

The resources are read from template.yaml, so the local stack cannot drift from what
is deployed. Two things are left out, and `up` says so: the bucket policy (it denies
every request that is not TLS, and the emulator speaks plain HTTP) and the resources
that have no part in the data path (HTTP API, alarms, topic).

Lambda containers started by `sam local invoke` cannot reach 127.0.0.1 of this
machine; when Docker's bridge (docker0) is up, a relay on the bridge address forwards
to the emulator, and events/env.json points the functions there. The relay is only
reachable from this machine and its containers.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATE_DIR = pathlib.Path(os.environ.get("LOCAL_STACK_DIR", ROOT / ".local-stack"))
STATE = STATE_DIR / "state.json"
VENV = ROOT / ".venv" / "bin"
PREFIX = "triage-local"
REGION = "us-east-1"
# Zendesk's fixed secret for test deliveries from its webhook builder.
TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
# Parameters whose template default is not usable locally.
LOCAL_PARAMETERS = {"ZendeskWebhookSecret": TEST_SECRET}
SKIPPED = {
    "AWS::S3::BucketPolicy": "it denies every request that is not TLS (aws:SecureTransport), "
    "and the emulator speaks plain HTTP; deployed stacks keep it",
}
CREDENTIALS = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
}


def load_template():
    try:
        from cfnlint.decode import cfn_yaml
    except ImportError:
        sys.exit("local-stack: cfn-lint is missing; run scripts/setup first")
    return cfn_yaml.loads((ROOT / "template.yaml").read_text())


def alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def read_state():
    if STATE.exists():
        return json.loads(STATE.read_text())
    return {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, what):
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"local-stack: {what} did not start; see {STATE_DIR}")


def http_serving(port, seconds=60):
    """Whether a server on `port` answers HTTP within `seconds` (any answer counts:
    `cargo lambda watch` and `sam local start-lambda` have nothing at their root)."""
    for _ in range(seconds * 10):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.1)
    return False


def bridge_address():
    """The address of Docker's bridge on this machine, if it is up."""
    try:
        out = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True, check=False
        ).stdout
    except FileNotFoundError:
        return None
    for word in out.split():
        if "/" in word and word[0].isdigit():
            return word.split("/")[0]
    return None


def boto(service, endpoint):
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="test", aws_secret_access_key="test")


class Names:
    """Physical names of the template's resources on the emulator."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.values = {}
        self.arns = {}

    def ref(self, logical):
        return self.values[logical]


def read_env(state_dir=None):
    """The settings `up` wrote to env.sh (what `source .local-stack/env.sh` exports)."""
    out = {}
    for line in ((pathlib.Path(state_dir) if state_dir else STATE_DIR) / "env.sh").read_text().splitlines():
        if line.startswith("export "):
            key, value = line[len("export "):].split("=", 1)
            out[key] = json.loads(value)
    return out


def create_resources(template, endpoint):
    resources = template["Resources"]
    names = Names(endpoint)
    notes = []
    ddb, sqs, s3 = boto("dynamodb", endpoint), boto("sqs", endpoint), boto("s3", endpoint)
    order = sorted(resources, key=lambda k: "RedrivePolicy" in resources[k].get("Properties", {}))
    for logical in order:
        r = resources[logical]
        kind, props = r["Type"], r.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            name = f"{PREFIX}-{logical}"
            args = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            try:
                ddb.create_table(**args)
            except ddb.exceptions.ResourceInUseException:
                pass
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
            names.values[logical] = name
            names.arns[logical] = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        elif kind == "AWS::SQS::Queue":
            name = f"{PREFIX}-{logical}"
            attributes = {}
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
                if key in props:
                    attributes[key] = str(props[key])
            redrive = props.get("RedrivePolicy")
            if redrive:
                target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
                attributes["RedrivePolicy"] = json.dumps({
                    "deadLetterTargetArn": names.arns[target],
                    "maxReceiveCount": str(redrive["maxReceiveCount"]),
                })
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            names.values[logical] = url
            names.arns[logical] = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        elif kind == "AWS::S3::Bucket":
            name = f"{PREFIX}-{logical}".lower()
            try:
                s3.create_bucket(Bucket=name)
            except s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            names.values[logical] = name
            names.arns[logical] = f"arn:aws:s3:::{name}"
        elif kind in SKIPPED:
            notes.append(f"{logical} ({kind}) left out: {SKIPPED[kind]}")
    return names, notes


def resolve(value, template, names):
    """The local value of an environment variable's template expression."""
    params = template.get("Parameters", {})
    if isinstance(value, dict):
        if "Ref" in value:
            key = value["Ref"]
            if key in names.values:
                return names.values[key]
            if key in LOCAL_PARAMETERS:
                return LOCAL_PARAMETERS[key]
            if key in params:
                return str(params[key].get("Default", ""))
            if key == "AWS::Region":
                return REGION
            raise KeyError(f"cannot resolve Ref {key}")
        if "Fn::GetAtt" in value:
            return names.arns[value["Fn::GetAtt"][0]]
        if "Fn::If" in value:
            # Only the endpoint is conditional; locally it is always set (below).
            return ""
        raise KeyError(f"cannot resolve {value}")
    return str(value)


def function_environments(template, names, endpoint):
    """Every function's environment, as Lambda would give it, pointed at `endpoint`."""
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    out = {}
    for logical, r in template["Resources"].items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        own = r["Properties"].get("Environment", {}).get("Variables", {})
        env = {k: resolve(v, template, names) for k, v in {**shared, **own}.items()}
        env.update(CREDENTIALS)
        env["AWS_ENDPOINT_URL"] = endpoint
        out[logical] = env
    return out


def start_relay(bridge, port):
    """A TCP relay from bridge:port to 127.0.0.1:port (for Lambda containers)."""
    code = f"""
import asyncio
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def handle(r, w):
    try:
        ur, uw = await asyncio.open_connection("127.0.0.1", {port})
    except OSError:
        w.close()
        return
    await asyncio.gather(pipe(r, uw), pipe(ur, w))
async def main():
    server = await asyncio.start_server(handle, "{bridge}", {port})
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""
    log = (STATE_DIR / "relay.log").open("w")
    return subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True).pid


def up(args):
    STATE_DIR.mkdir(exist_ok=True)
    state = read_state()
    port = args.port
    if alive(state.get("moto_pid")):
        port = state["port"]
        print(f"local-stack: the emulator already runs on 127.0.0.1:{port}")
    else:
        if not (VENV / "moto_server").exists():
            sys.exit("local-stack: moto server is missing; run scripts/setup first")
        log = (STATE_DIR / "moto.log").open("w")
        pid = subprocess.Popen([str(VENV / "python"), str(ROOT / "scripts" / "aws_emulator.py"),
                                "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True).pid
        state = {"moto_pid": pid, "port": port}
        wait_http(f"http://127.0.0.1:{port}/moto-api/", "moto server")
    endpoint = f"http://127.0.0.1:{port}"
    template = load_template()
    names, notes = create_resources(template, endpoint)
    bridge = bridge_address()
    if bridge and not alive(state.get("relay_pid")):
        state["relay_pid"] = start_relay(bridge, port)
        state["bridge"] = bridge
    container_endpoint = f"http://{bridge}:{port}" if bridge else endpoint
    state["resources"] = names.values
    STATE.write_text(json.dumps(state, indent=2))

    env_json = function_environments(template, names, container_endpoint)
    pathlib.Path(args.env_file).write_text(json.dumps(env_json, indent=2, sort_keys=True) + "\n")
    watch_env = function_environments(template, names, endpoint)
    merged = {}
    for env in watch_env.values():
        merged.update(env)
    lines = [f"export {k}={json.dumps(v)}" for k, v in sorted(merged.items())]
    (STATE_DIR / "env.sh").write_text(
        "# Settings for `cargo lambda watch` against the local stack (scripts/local-stack up).\n"
        + "\n".join(lines) + "\n")

    print(f"local-stack: the emulator runs on {endpoint}" + (f" (Lambda containers: {container_endpoint})" if bridge else ""))
    for logical, value in names.values.items():
        print(f"  {logical:<24} {value}")
    for note in notes:
        print(f"  {note}")
    print(f"local-stack: wrote {args.env_file} (sam local invoke) and {STATE_DIR / 'env.sh'} (cargo lambda watch)")
    print("\nNext:")
    print("  source .local-stack/env.sh && .venv/bin/cargo-lambda lambda watch -A 127.0.0.1 &")
    print("  scripts/local-stack sign events/webhook-trigger.json > /tmp/webhook.json")
    print("  .venv/bin/cargo-lambda lambda invoke webhook-intake --data-file /tmp/webhook.json -A 127.0.0.1")
    print("or, with Docker:")
    print("  PATH=\"$PWD/.venv/bin:$PATH\" .venv/bin/sam build --parameter-overrides Architecture=x86_64"
          "   # on an x86_64 machine")
    print("  .venv/bin/sam local invoke WebhookIntakeFunction -e /tmp/webhook.json")


def down(_args):
    state = read_state()
    for key in ("relay_pid", "moto_pid"):
        pid = state.get(key)
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
    if STATE.exists():
        STATE.unlink()
    print("local-stack: stopped")


def status(_args):
    state = read_state()
    if not alive(state.get("moto_pid")):
        print("local-stack: not running")
        return 1
    print(f"local-stack: emulator on 127.0.0.1:{state['port']}"
          + (f", relay on {state['bridge']}:{state['port']}" if alive(state.get("relay_pid")) else ""))
    for logical, value in state.get("resources", {}).items():
        print(f"  {logical:<24} {value}")
    return 0


def signed(event, secret=TEST_SECRET):
    """The webhook event signed now, as Zendesk signs each delivery when it sends it."""
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    mac = hmac.new(secret.encode(), stamp.encode() + raw, hashlib.sha256).digest()
    headers = event.setdefault("headers", {})
    headers["x-zendesk-webhook-signature-timestamp"] = stamp
    headers["x-zendesk-webhook-signature"] = base64.b64encode(mac).decode()
    return event


def sign(args):
    event = signed(json.loads(pathlib.Path(args.event).read_text()), args.secret)
    if args.invocation:
        event["headers"]["x-zendesk-webhook-invocation-id"] = args.invocation
    print(json.dumps(event, indent=2))


def webhook_event(ticket, invocation, secret):
    """An API Gateway (HTTP API v2) event of a Zendesk trigger webhook, signed now."""
    template = json.loads((ROOT / "events" / "webhook-trigger.json").read_text())
    template["body"] = json.dumps({"ticket": ticket})
    template["headers"]["x-zendesk-webhook-invocation-id"] = invocation
    return signed(template, secret)


def webhooks(args):
    import csv

    out = pathlib.Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(args.csv, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=1):
            number = str(args.first + n - 1)
            ticket = {
                "id": number,
                "subject": row.get("subject", ""),
                "description": row.get("description", ""),
                "via": row.get("channel", "email"),
                "organization": row.get("customer_name", ""),
                "requester_name": row.get("customer_name", ""),
                "mrr": row.get("mrr", ""),
            }
            event = webhook_event(ticket, f"inv-{number}", args.secret)
            (out / f"webhook-{number}.json").write_text(json.dumps(event, indent=2))
            count += 1
    print(f"local-stack: {count} signed webhook events in {out}")


def event_sources(template):
    """(function binary, queue logical id, batch size) of every SQS event source."""
    out = []
    for logical, r in template["Resources"].items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        binary = r.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        for event in r["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                out.append((binary, queue, int(event["Properties"].get("BatchSize", 10))))
    return out


def sqs_event(messages, arn):
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": {k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType")}
                              for k, v in m.get("MessageAttributes", {}).items()},
        "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
        "awsRegion": REGION} for m in messages]}


def pump(args):
    state = read_state()
    if not alive(state.get("moto_pid")):
        sys.exit("local-stack: not running (scripts/local-stack up)")
    sqs = boto("sqs", f"http://127.0.0.1:{state['port']}")
    sources = event_sources(load_template())
    res = state["resources"]
    stats = {}
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        busy = False
        for binary, queue, batch in sources:
            url = res[queue]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch, VisibilityTimeout=args.visibility,
                                      AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            if not got:
                continue
            busy = True
            request = urllib.request.Request(
                f"http://127.0.0.1:{args.invoke_port}/2015-03-31/functions/{binary}/invocations",
                data=json.dumps(sqs_event(got, arn)).encode(), headers={"content-type": "application/json"})
            try:
                answer = json.loads(urllib.request.urlopen(request, timeout=args.invoke_timeout).read() or b"{}")
            except OSError as e:
                print(f"local-stack: {binary} did not answer ({e}); the batch returns to the queue")
                answer = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in got]}
            failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
            done = [m for m in got if m["MessageId"] not in failed]
            for m in done:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            s = stats.setdefault(binary, {"batches": 0, "records": 0, "failed": 0})
            s["batches"] += 1
            s["records"] += len(got)
            s["failed"] += len(failed)
        if not busy:
            left = sum(
                int(v) for _, queue, _ in sources
                for v in sqs.get_queue_attributes(
                    QueueUrl=res[queue],
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                    "ApproximateNumberOfMessagesDelayed"],
                )["Attributes"].values())
            if left == 0:
                break
            time.sleep(0.5)
    dlq = {q: int(sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["ApproximateNumberOfMessages"])
                  ["Attributes"]["ApproximateNumberOfMessages"])
           for q, u in res.items() if q.endswith("DeadLetterQueue")}
    print(json.dumps({"functions": stats, "dead_letter_queues": dlq}))


def items(args):
    state = read_state()
    if not alive(state.get("moto_pid")):
        sys.exit("local-stack: not running (scripts/local-stack up)")
    ddb = boto("dynamodb", f"http://127.0.0.1:{state['port']}")
    table = state["resources"]["TicketTable"]
    pages = ddb.get_paginator("scan").paginate(TableName=table)
    for page in pages:
        for item in page["Items"]:
            pk = item["pk"]["S"]
            if args.id and pk != f"TICKET#{args.id}":
                continue
            print(json.dumps({k: next(iter(v.values())) for k, v in sorted(item.items())}, indent=2))


def main():
    parser = argparse.ArgumentParser(prog="scripts/local-stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up")
    p.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_STACK_PORT", "5000")))
    p.add_argument("--env-file", default=str(ROOT / "events" / "env.json"),
                   help="where the functions' settings for sam local invoke go")
    p.set_defaults(run=up)
    sub.add_parser("down").set_defaults(run=down)
    sub.add_parser("status").set_defaults(run=status)
    p = sub.add_parser("sign")
    p.add_argument("event")
    p.add_argument("--secret", default=TEST_SECRET)
    p.add_argument("--invocation", help="a new webhook invocation id (a new delivery)")
    p.set_defaults(run=sign)
    p = sub.add_parser("webhooks")
    p.add_argument("csv")
    p.add_argument("dir")
    p.add_argument("--first", type=int, default=9001, help="the first Zendesk ticket number")
    p.add_argument("--secret", default=TEST_SECRET)
    p.set_defaults(run=webhooks)
    p = sub.add_parser("pump")
    p.add_argument("--invoke-port", type=int, default=9000, help="where cargo lambda watch listens")
    p.add_argument("--visibility", type=int, default=3, help="seconds before a failed record returns")
    p.add_argument("--timeout", type=int, default=300, help="give up after this many seconds")
    p.add_argument("--invoke-timeout", type=int, default=150)
    p.set_defaults(run=pump)
    p = sub.add_parser("items")
    p.add_argument("id", nargs="?")
    p.set_defaults(run=items)
    args = parser.parse_args()
    sys.exit(args.run(args) or 0)


if __name__ == "__main__":
    main()
