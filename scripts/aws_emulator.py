#!/usr/bin/env python3
"""The AWS emulator the tests and the local stack use: moto server, with one fix.

moto evaluates a DynamoDB condition expression and then writes, with no lock in
between; requests are served on many threads, so two conditional writes to one item
can both pass their conditions. DynamoDB itself applies each write atomically, and the
product relies on that (a ticket's claim, a decision written once, an alert's lease).
This server serialises DynamoDB's write operations so that the emulator keeps the
same promise; everything else stays concurrent.

Usage: scripts/aws_emulator.py [-H 127.0.0.1] [-p 5000]
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

WRITES = {
    "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem",
}


class AtomicDynamoDbWrites:
    """WSGI middleware: one DynamoDB write at a time."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_") and target.split(".")[-1] in WRITES:
            with self.lock:
                # The whole answer is produced under the lock.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, AtomicDynamoDbWrites(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
