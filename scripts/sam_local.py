#!/usr/bin/env python3
"""`sam local invoke` on a machine without an image registry.

    scripts/sam-local image     build the Lambda base image from Debian's packages
                                (debootstrap, CA certificates, `docker import`), once
    scripts/sam-local stage     put the binaries cargo built (target/debug, or
                                --profile release) where `sam build` puts them
                                (.aws-sam/build), with the built template
    scripts/sam-local check     the self-test scripts/test runs: the local stack, each
                                function through `sam local invoke` (a webhook, its
                                triage, its alerts, a report), and the emulator's state
                                after each
    scripts/sam-local bench     cold and warm invocations of each function in warm
                                containers (`sam local start-lambda`), release build

SAM's own images (public.ecr.aws/lambda/provided) cannot be pulled here, so
samconfig.toml points `sam local invoke` at the image `image` builds; SAM mounts its
runtime interface emulator into it. The functions need CA certificates (the AWS SDK
loads the system's roots at start), so the image carries Debian's.
"""

import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
IMAGE = "triage-lambda-base:bookworm"
# A ticket from an account about to leave: triage decides it P0 and queues a Guardian alert.
CHURN_TICKET = {
    "id": "1002", "subject": "Third outage this month",
    "description": "Every checkout has failed since 9am and we are losing sales again. We are "
                   "evaluating other providers and will cancel our contract if this is not fixed today.",
    "requester_email": "cfo@brightline.example", "organization": "Brightline Outfitters",
    "created_at": "2026-11-26T12:05:00Z", "mrr": "28500"}
BUILD = ROOT / ".aws-sam" / "build"


def docker(*args, **kw):
    return subprocess.run(["docker", *args], **kw)


def docker_ready():
    """Whether a Docker engine answers; starts one (root only) when it is installed."""
    if shutil.which("docker") is None:
        return False, "no docker client (Debian package docker.io)"
    if docker("info", capture_output=True).returncode == 0:
        return True, ""
    if shutil.which("dockerd") and os.geteuid() == 0:
        log = open(os.path.join(tempfile.gettempdir(), "dockerd.log"), "w")
        # No iptables here: the default bridge still comes up, and published ports go
        # through the userland proxy.
        subprocess.Popen(["dockerd", "--iptables=false"], stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
        for _ in range(60):
            time.sleep(0.5)
            if docker("info", capture_output=True).returncode == 0:
                return True, ""
        return False, "dockerd did not start (see the temp directory's dockerd.log)"
    return False, "no Docker engine is running and none can be started here"


def image(_args=None):
    if docker("image", "inspect", IMAGE, capture_output=True).returncode == 0:
        print(f"sam-local: image {IMAGE} is there")
        return
    if shutil.which("debootstrap") is None:
        sys.exit("sam-local: debootstrap is missing (apt-get install debootstrap)")
    rootfs = pathlib.Path(tempfile.mkdtemp(prefix="lambda-rootfs-"))
    print(f"sam-local: building {IMAGE} from Debian bookworm (minbase + CA certificates)")
    subprocess.run(["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm",
                    str(rootfs), "http://deb.debian.org/debian"], check=True, stdout=subprocess.DEVNULL)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    docker("import", "-c", 'ENTRYPOINT ["/var/rapid/aws-lambda-rie"]', "-", IMAGE,
           stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL)
    tar.wait()
    shutil.rmtree(rootfs, ignore_errors=True)


def stage(args):
    """The built template and bootstraps, as `sam build` leaves them."""
    text = (ROOT / "template.yaml").read_text()
    profile = getattr(args, "profile", "debug")
    BUILD.mkdir(parents=True, exist_ok=True)
    functions = re.findall(
        r"\n  (\w+Function):\n    Type: AWS::Serverless::Function\n    Metadata:\n"
        r"      BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: ([\w-]+)\n"
        r"    Properties:\n      CodeUri: ([\w/-]+)\n", text)
    if not functions:
        sys.exit("sam-local: no functions found in template.yaml")
    for logical, binary, code_uri in functions:
        source = ROOT / "target" / profile / binary
        if not source.exists():
            sys.exit(f"sam-local: {source} is missing; build it first (cargo build -p ...)")
        target = BUILD / logical
        target.mkdir(exist_ok=True)
        shutil.copy2(source, target / "bootstrap")
        text = text.replace(
            f"    Metadata:\n      BuildMethod: rust-cargolambda\n      BuildProperties:\n"
            f"        Binary: {binary}\n    Properties:\n      CodeUri: {code_uri}\n",
            f"    Properties:\n      CodeUri: {logical}\n")
    (BUILD / "template.yaml").write_text(text)
    print(f"sam-local: staged {len(functions)} functions from target/{profile} in {BUILD.relative_to(ROOT)}")


def sam_invoke(function, event, env_file, endpoint, timeout=300):
    started = time.time()
    out = subprocess.run(
        [str(VENV / "sam"), "local", "invoke", function, "--event", str(event),
         "--env-vars", str(env_file), "--template", str(BUILD / "template.yaml"),
         "--invoke-image", IMAGE, "--skip-pull-image",
         "--parameter-overrides", f"Architecture=x86_64 EndpointUrl={endpoint}"],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, SAM_CLI_TELEMETRY="0"))
    elapsed = time.time() - started
    if out.returncode != 0:
        print(out.stdout[-3000:], out.stderr[-3000:])
        sys.exit(f"sam-local: sam local invoke {function} failed ({out.returncode})")
    lines = [l for l in out.stdout.strip().splitlines() if l.strip().startswith("{")]
    if not lines:
        print(out.stderr[-3000:])
        sys.exit(f"sam-local: {function} answered nothing")
    return json.loads(lines[-1]), elapsed, out.stderr


def stack_up(local_stack):
    """The local stack in a fresh work directory: (directory, env-vars file, state)."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="sam-local-"))
    env_file = work / "env.json"
    port = local_stack.free_port()
    stack = subprocess.run(
        [str(VENV / "python"), str(ROOT / "scripts" / "local_stack.py"), "up", "--port", str(port),
         "--env-file", str(env_file)],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, LOCAL_STACK_DIR=str(work / "stack")))
    if stack.returncode != 0:
        print(stack.stdout, stack.stderr)
        shutil.rmtree(work, ignore_errors=True)
        sys.exit("sam-local: the local stack did not come up")
    return work, env_file, json.loads((work / "stack" / "state.json").read_text())


def stack_down(work):
    subprocess.run([str(VENV / "python"), str(ROOT / "scripts" / "local_stack.py"), "down"],
                   cwd=ROOT, capture_output=True, env=dict(os.environ, LOCAL_STACK_DIR=str(work / "stack")))
    shutil.rmtree(work, ignore_errors=True)


def check(_args):
    ready, why = docker_ready()
    if not ready:
        print(f"sam local invoke: skipped: {why}")
        return
    image()
    stage(argparse.Namespace(profile="debug"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import local_stack

    work, env_file, state = stack_up(local_stack)
    try:
        if "bridge" not in state:
            print("sam local invoke: skipped: Docker's bridge (docker0) is not up")
            return
        res = state["resources"]
        port = state["port"]
        endpoint = f"http://127.0.0.1:{port}"
        container_endpoint = f"http://{state['bridge']}:{port}"
        ddb = local_stack.boto("dynamodb", endpoint)
        sqs = local_stack.boto("sqs", endpoint)
        s3 = local_stack.boto("s3", endpoint)

        # 1. A webhook, signed now.
        signed = work / "webhook.json"
        signed.write_text(subprocess.run(
            [str(VENV / "python"), str(ROOT / "scripts" / "local_stack.py"), "sign",
             str(ROOT / "events" / "webhook-trigger.json")],
            cwd=ROOT, capture_output=True, text=True, check=True).stdout)
        answer, cold, logs = sam_invoke("WebhookIntakeFunction", signed, env_file, container_endpoint)
        if answer.get("statusCode") != 202:
            print(logs[-3000:])
            sys.exit(f"sam-local: webhook-intake answered {answer}")
        ticket_id = json.loads(json.loads(signed.read_text())["body"])["ticket"]["id"]
        item = ddb.get_item(TableName=res["TicketTable"],
                            Key={"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "META"}}).get("Item")
        if not item or item["status"]["S"] != "received":
            sys.exit(f"sam-local: ticket {ticket_id} is not stored as received: {item}")
        print(f"sam local invoke WebhookIntakeFunction: 202 in {cold:.1f} s (container start included); "
              f"ticket {ticket_id} stored and queued")
        # A second one, from an account about to leave, so that triage has alerts to send.
        churn = work / "webhook-churn.json"
        churn.write_text(json.dumps(local_stack.webhook_event(CHURN_TICKET, "sam-local-churn", local_stack.TEST_SECRET)))
        answer, _, logs = sam_invoke("WebhookIntakeFunction", churn, env_file, container_endpoint)
        if answer.get("statusCode") != 202:
            print(logs[-3000:])
            sys.exit(f"sam-local: webhook-intake answered {answer}")
        messages = []
        while True:
            got = sqs.receive_message(QueueUrl=res["TriageQueue"], MaxNumberOfMessages=10,
                                      AttributeNames=["All"]).get("Messages", [])
            if not got:
                break
            messages += got
        if len(messages) != 2:
            sys.exit(f"sam-local: expected two triage messages, found {len(messages)}")

        def from_queue(function, queue, records):
            """The records as SQS hands them to `function`; none may fail."""
            arn = sqs.get_queue_attributes(QueueUrl=res[queue], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            event = work / f"{function}.json"
            event.write_text(json.dumps(local_stack.sqs_event(records, arn)))
            answer, seconds, logs = sam_invoke(function, event, env_file, container_endpoint)
            if answer.get("batchItemFailures"):
                print(logs[-3000:])
                sys.exit(f"sam-local: {function} reported failures: {answer}")
            return seconds

        def decided(ticket):
            item = ddb.get_item(TableName=res["TicketTable"],
                                Key={"pk": {"S": f"TICKET#{ticket}"}, "sk": {"S": "META"}})["Item"]
            if "decision" not in item or not item.get("completed", {}).get("BOOL"):
                sys.exit(f"sam-local: ticket {ticket} was not decided and completed")
            return json.loads(item["decision"]["S"])

        # 2. The two queued messages, as SQS hands them to the triage function.
        cold = from_queue("TriageFunction", "TriageQueue", messages)
        decision, churn_decision = decided(ticket_id), decided(CHURN_TICKET["id"])
        calls = s3.get_object(Bucket=res["ReportBucket"], Key=f"zendesk-calls/{ticket_id}.json")
        recorded = json.loads(calls["Body"].read())
        print(f"sam local invoke TriageFunction: a batch of 2 in {cold:.1f} s; ticket {ticket_id} "
              f"{decision['priority']} / {decision['team']}, {len(recorded)} Zendesk calls recorded in the "
              f"bucket; ticket {CHURN_TICKET['id']} {churn_decision['priority']}, "
              f"Guardian {churn_decision['guardian']['level']}")

        # 3. The alerts triage queued, as SQS hands them to alert-fanout.
        alerts = sqs.receive_message(QueueUrl=res["AlertsQueue"], MaxNumberOfMessages=10,
                                     AttributeNames=["All"]).get("Messages", [])
        if not alerts:
            sys.exit(f"sam-local: triage queued no alert for ticket {CHURN_TICKET['id']}")
        cold = from_queue("AlertFanoutFunction", "AlertsQueue", alerts)
        ids = [json.loads(m["Body"])["alert_id"] for m in alerts]
        kept = [k["Key"] for k in s3.list_objects_v2(Bucket=res["ReportBucket"], Prefix="emails/").get("Contents", [])]
        missing = [i for i in ids if f"emails/{i}.eml" not in kept]
        if missing:
            sys.exit(f"sam-local: no e-mail kept for alerts {missing}")
        print(f"sam local invoke AlertFanoutFunction: {len(ids)} alert(s) e-mailed (kept in the bucket) in {cold:.1f} s")

        # 4. The report, asked for by hand.
        answer, cold, logs = sam_invoke("ReportBuilderFunction", ROOT / "events" / "report-manual.json",
                                        env_file, container_endpoint)
        if answer.get("tickets") != 2 or "link" not in answer:
            print(logs[-3000:])
            sys.exit(f"sam-local: report-builder answered {answer}")
        import urllib.request
        page = urllib.request.urlopen(answer["link"], timeout=10).read().decode()
        if "Brightline Outfitters" not in page:
            sys.exit("sam-local: the report's link does not open the dashboard with the tickets")
        print(f"sam local invoke ReportBuilderFunction: a report of {answer['tickets']} tickets in {cold:.1f} s; "
              "its presigned link opens the dashboard")
    finally:
        stack_down(work)


def bench(args):
    """Cold and warm invocations of each function in Lambda containers, through
    `sam local start-lambda` with warm containers (a container starts on the first
    invocation and serves the next ones, as a Lambda execution environment does)."""
    ready, why = docker_ready()
    if not ready:
        sys.exit(f"sam-local: {why}")
    image()
    stage(argparse.Namespace(profile=args.profile))
    sys.path.insert(0, str(ROOT / "scripts"))
    import local_stack
    from botocore.config import Config

    work, env_file, state = stack_up(local_stack)
    server = None
    try:
        if "bridge" not in state:
            sys.exit("sam-local: Docker's bridge (docker0) is not up")
        res = state["resources"]
        endpoint = f"http://127.0.0.1:{state['port']}"
        sqs = local_stack.boto("sqs", endpoint)
        port = local_stack.free_port()
        server = subprocess.Popen(
            [str(VENV / "sam"), "local", "start-lambda", "--port", str(port), "--warm-containers", "LAZY",
             "--env-vars", str(env_file), "--template", str(BUILD / "template.yaml"),
             "--invoke-image", IMAGE, "--skip-pull-image",
             "--parameter-overrides", f"Architecture=x86_64 EndpointUrl=http://{state['bridge']}:{state['port']}"],
            cwd=ROOT, stdout=(work / "start-lambda.log").open("w"), stderr=subprocess.STDOUT,
            env=dict(os.environ, SAM_CLI_TELEMETRY="0"))
        if not local_stack.http_serving(port):
            sys.exit(f"sam-local: sam local start-lambda did not start; see {work / 'start-lambda.log'}")
        import boto3

        client = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(read_timeout=300, retries={"max_attempts": 0}))
        times = {}

        def invoke(function, event):
            started = time.time()
            answer = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
            times.setdefault(function, []).append(time.time() - started)
            body = json.loads(answer["Payload"].read() or b"{}")
            if answer.get("FunctionError") or body.get("batchItemFailures"):
                sys.exit(f"sam-local: {function} failed: {body}; see {work / 'start-lambda.log'}")
            return body

        def drain(queue, n):
            got = []
            while len(got) < n:
                batch = sqs.receive_message(QueueUrl=res[queue], MaxNumberOfMessages=10,
                                            AttributeNames=["All"], WaitTimeSeconds=1).get("Messages", [])
                if not batch:
                    break
                got += batch
            return got

        arn = {q: sqs.get_queue_attributes(QueueUrl=res[q], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
               for q in ("TriageQueue", "AlertsQueue")}
        ticket = json.loads(json.loads((ROOT / "events" / "webhook-trigger.json").read_text())["body"])["ticket"]
        for i in range(args.count):
            # Every other ticket is an account about to leave, so that alert-fanout has work.
            base = CHURN_TICKET if i % 2 else ticket
            event = local_stack.webhook_event(dict(base, id=str(2000 + i)), f"bench-{i}", local_stack.TEST_SECRET)
            if invoke("WebhookIntakeFunction", event).get("statusCode") != 202:
                sys.exit("sam-local: webhook-intake did not accept a webhook")
        for m in drain("TriageQueue", args.count):
            invoke("TriageFunction", local_stack.sqs_event([m], arn["TriageQueue"]))
        for m in drain("AlertsQueue", args.count):
            invoke("AlertFanoutFunction", local_stack.sqs_event([m], arn["AlertsQueue"]))
        for _ in range(args.count):
            invoke("ReportBuilderFunction", {"window_days": 1})
        print(f"sam local start-lambda, warm containers, {args.profile} build; seconds per invocation "
              "(the client's wall time: the HTTP round trip to SAM, SAM to the container, the function)")
        print(f"{'function':<24}{'invocations':>12}{'cold':>8}{'warm median':>13}{'warm max':>10}")
        for function, t in times.items():
            warm = sorted(t[1:]) or [float("nan")]
            print(f"{function:<24}{len(t):>12}{t[0]:>8.2f}{warm[len(warm) // 2]:>13.3f}{warm[-1]:>10.3f}")
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            # Warm containers outlive a killed SAM; remove the ones it started.
            ids = docker("ps", "-aq", "--filter", f"ancestor={IMAGE}", capture_output=True, text=True).stdout.split()
            if ids:
                docker("rm", "-f", *ids, capture_output=True)
        stack_down(work)


def main():
    parser = argparse.ArgumentParser(prog="scripts/sam-local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("image").set_defaults(run=image)
    p = sub.add_parser("stage")
    p.add_argument("--profile", default="debug", choices=["debug", "release"])
    p.set_defaults(run=stage)
    sub.add_parser("check").set_defaults(run=check)
    p = sub.add_parser("bench")
    p.add_argument("--profile", default="release", choices=["debug", "release"])
    p.add_argument("--count", type=int, default=6, help="invocations of each function")
    p.set_defaults(run=bench)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
