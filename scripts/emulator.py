"""The stack's AWS resources on the local emulator (moto server), for the scripts that
run the function binaries: the table (with both indexes, as in template.yaml), the two
queues and the bucket. `tests/support` creates the same resources for the Rust tests.
"""

import os
import socket
import subprocess
import time
import urllib.request

import boto3

INDEXES = [("by_customer", "gsi1pk", "gsi1sk"), ("by_day", "gsi2pk", "gsi2sk")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(venv_bin, log_path):
    """Starts moto server on a free port; returns (process, endpoint)."""
    port = free_port()
    process = subprocess.Popen(
        [os.path.join(venv_bin, "python"), os.path.join(os.path.dirname(__file__), "aws_emulator.py"),
         "-H", "127.0.0.1", "-p", str(port)],
        stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            return process, endpoint
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto server did not start; see {log_path}")


def create_stack(endpoint, prefix):
    """Creates the resources; returns the function settings that name them."""
    ddb = boto3.client("dynamodb", endpoint_url=endpoint)
    table = f"{prefix}-table"
    ddb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"}
            for n in ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, pk, sk in INDEXES
        ],
    )
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    bucket = f"{prefix}-reports"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return {
        "TABLE_NAME": table,
        "TRIAGE_QUEUE_URL": sqs.create_queue(QueueName=f"{prefix}-triage")["QueueUrl"],
        "ALERTS_QUEUE_URL": sqs.create_queue(QueueName=f"{prefix}-alerts")["QueueUrl"],
        "REPORT_BUCKET": bucket,
    }
