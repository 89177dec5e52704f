#!/usr/bin/env python3
"""The local Lambda loop, exercised once: `cargo lambda watch` serves the Lambda
runtime API on 127.0.0.1, the function binaries that `cargo test` just built run
against it as they would in Lambda, and `cargo lambda invoke` feeds them the event
files. (`--only-lambda-apis` lets the watcher use those binaries instead of building
the functions a second time with another feature set.)

Creates a table, queue and bucket on the emulator (AWS_ENDPOINT_URL), invokes
webhook-intake with events/webhook-trigger.json (the signature is valid; the window is
widened because the file's timestamp is fixed) and report-builder with
events/report-manual.json, and checks both answers.
"""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

from emulator import create_stack, free_port

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
endpoint = os.environ["AWS_ENDPOINT_URL"]


def fail(message, log=None):
    print(f"lambda smoke test: {message}")
    if log is not None:
        print(log.read_text()[-4000:])
    sys.exit(1)


suffix = str(int(time.time() * 1000))
stack = create_stack(endpoint, f"smoke-{suffix}")

port = free_port()
log = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"cargo-lambda-watch-{suffix}.log"
env = dict(
    os.environ,
    **stack,
    ZENDESK_WEBHOOK_SECRET="dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==",
    # The event file's signature timestamp is fixed: accept any age locally.
    WEBHOOK_TOLERANCE_SECS="1000000000",
    PATH=f"{VENV}:{os.environ['PATH']}",
)
watcher = subprocess.Popen(
    [str(VENV / "cargo-lambda"), "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(port)],
    cwd=ROOT,
    env=env,
    stdout=log.open("w"),
    stderr=subprocess.STDOUT,
    start_new_session=True,
)


def wait_for_watcher():
    """The function binary exits if the runtime API is not up yet: wait for the port."""
    for _ in range(600):
        if watcher.poll() is not None:
            fail("cargo lambda watch stopped", log)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    fail("cargo lambda watch did not open its port within 60 s", log)


function_env = dict(
    env,
    AWS_LAMBDA_FUNCTION_VERSION="1",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
    AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt",
    AWS_LAMBDA_FUNCTION_NAME="_",
)


def invoke(binary, data_file):
    function = subprocess.Popen(
        [str(ROOT / "target" / "debug" / binary)], cwd=ROOT, env=function_env,
        stdout=log.open("a"), stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(60):
            result = subprocess.run(
                [str(VENV / "cargo-lambda"), "lambda", "invoke", "_", "--data-file", data_file,
                 "-A", "127.0.0.1", "-P", str(port), "-o", "json"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
            )
            if result.returncode == 0:
                return json.loads(result.stdout)
            if watcher.poll() is not None:
                fail("cargo lambda watch stopped", log)
            if function.poll() is not None:
                fail(f"{binary} exited", log)
            time.sleep(0.5)
        fail(f"invoking {binary} kept failing: {result.stderr.strip()}", log)
    finally:
        function.terminate()
        function.wait(timeout=10)


try:
    wait_for_watcher()
    started = time.time()
    intake = invoke("webhook-intake", "events/webhook-trigger.json")
    if intake.get("statusCode") != 202:
        fail(f"webhook-intake answered {intake}", log)
    report = invoke("report-builder", "events/report-manual.json")
    if "link" not in report or report.get("window_days") != 1 or report.get("tickets") != 0:
        fail(f"report-builder answered {report}", log)
    print(f"lambda smoke test: webhook-intake 202, report-builder published {report['report']} "
          f"in {time.time() - started:.1f} s")
finally:
    os.killpg(watcher.pid, signal.SIGTERM)
    try:
        watcher.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(watcher.pid, signal.SIGKILL)
