#!/usr/bin/env python3
"""`sam local invoke` on a machine without an image registry.

    scripts/sam-local image     build the Lambda base image from Debian's packages
                                (debootstrap, CA certificates, `docker import`), once
    scripts/sam-local stage     put the binaries cargo built (target/debug, or
                                --profile release) where `sam build` puts them
                                (.aws-sam/build), with the built template
    scripts/sam-local check     the self-test scripts/test runs: the local stack,
                                webhook-intake and triage through `sam local invoke`,
                                and the emulator's state afterwards

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
BUILD = ROOT / ".aws-sam" / "build"
SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="


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


def check(_args):
    ready, why = docker_ready()
    if not ready:
        print(f"sam local invoke: skipped: {why}")
        return
    image()
    stage(argparse.Namespace(profile="debug"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import local_stack

    work = pathlib.Path(tempfile.mkdtemp(prefix="sam-local-"))
    env_file = work / "env.json"
    state_dir = work / "stack"
    port = local_stack.free_port()
    stack = subprocess.run(
        [str(VENV / "python"), str(ROOT / "scripts" / "local_stack.py"), "up", "--port", str(port),
         "--env-file", str(env_file)],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, LOCAL_STACK_DIR=str(state_dir)))
    if stack.returncode != 0:
        print(stack.stdout, stack.stderr)
        sys.exit("sam-local: the local stack did not come up")
    try:
        state = json.loads((state_dir / "state.json").read_text())
        if "bridge" not in state:
            print("sam local invoke: skipped: Docker's bridge (docker0) is not up")
            return
        res = state["resources"]
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
        messages = sqs.receive_message(QueueUrl=res["TriageQueue"], MaxNumberOfMessages=10,
                                       AttributeNames=["All"]).get("Messages", [])
        if len(messages) != 1:
            sys.exit(f"sam-local: expected one triage message, found {len(messages)}")
        print(f"sam local invoke WebhookIntakeFunction: 202 in {cold:.1f} s (container start included); "
              f"ticket {ticket_id} stored and queued")

        # 2. The queued message, as SQS hands it to the triage function.
        arn = sqs.get_queue_attributes(QueueUrl=res["TriageQueue"],
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        m = messages[0]
        event = {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
            "awsRegion": "us-east-1"}]}
        sqs_event = work / "sqs.json"
        sqs_event.write_text(json.dumps(event))
        answer, cold, logs = sam_invoke("TriageFunction", sqs_event, env_file, container_endpoint)
        if answer.get("batchItemFailures"):
            print(logs[-3000:])
            sys.exit(f"sam-local: triage reported failures: {answer}")
        item = ddb.get_item(TableName=res["TicketTable"],
                            Key={"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "META"}})["Item"]
        decision = json.loads(item["decision"]["S"])
        if not item.get("completed", {}).get("BOOL"):
            sys.exit(f"sam-local: ticket {ticket_id} was decided but not completed")
        calls = s3.get_object(Bucket=res["ReportBucket"], Key=f"zendesk-calls/{ticket_id}.json")
        recorded = json.loads(calls["Body"].read())
        print(f"sam local invoke TriageFunction: {decision['priority']} / {decision['team']} "
              f"in {cold:.1f} s; {len(recorded)} Zendesk calls recorded in the bucket")
    finally:
        subprocess.run([str(VENV / "python"), str(ROOT / "scripts" / "local_stack.py"), "down"],
                       cwd=ROOT, capture_output=True, env=dict(os.environ, LOCAL_STACK_DIR=str(state_dir)))
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(prog="scripts/sam-local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("image").set_defaults(run=image)
    p = sub.add_parser("stage")
    p.add_argument("--profile", default="debug", choices=["debug", "release"])
    p.set_defaults(run=stage)
    sub.add_parser("check").set_defaults(run=check)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
