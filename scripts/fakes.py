"""Fake providers for the local loop's fault runs, on one loopback port: Zendesk (with
state: tickets, comments, stamps; a second note with the same `triage-ref` is refused
and counted), SendGrid and Slack (every delivery counted by alert), and the Anthropic
Messages API (a valid forced tool call). Plus a fault-injecting HTTP proxy for any
upstream (the AWS emulator, or these fakes).
"""

import http.client
import http.server
import json
import queue
import random
import re
import socket
import threading
import time
import uuid
from collections import Counter, defaultdict


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


class Fakes:
    """The providers' state and counters."""

    def __init__(self, on_note=None):
        self.lock = threading.Lock()
        self.comments = defaultdict(list)
        self.stamps = Counter()
        self.notes = Counter()
        self.refused_duplicate_notes = 0
        self.emails = Counter()
        self.slack = Counter()
        self.model_calls = 0
        self.on_note = on_note

    def handler(self):
        fakes = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, headers=None):
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    return json.loads(raw or b"{}")
                except ValueError:
                    return {}

            def do_GET(self):
                m = re.match(r"/api/v2/tickets/(\d+)(/comments)?\.json", self.path)
                if not m:
                    return self.reply(404, {"error": "RecordNotFound"})
                number = m.group(1)
                with fakes.lock:
                    if m.group(2):
                        comments = [{"id": i, "body": c, "plain_body": c, "public": False}
                                    for i, c in enumerate(reversed(fakes.comments[number]))]
                        return self.reply(200, {"comments": comments})
                    stamp = fakes.stamps[number]
                return self.reply(200, {"ticket": {"id": int(number), "status": "open", "assignee_id": None,
                                                   "updated_at": f"2026-12-01T00:{stamp // 60 % 60:02}:{stamp % 60:02}Z"}})

            def do_PUT(self):
                body = self.body()
                m = re.match(r"/api/v2/tickets/(\d+)(/tags|\.json)", self.path)
                if not m:
                    return self.reply(404, {"error": "RecordNotFound"})
                number = m.group(1)
                if m.group(2) == "/tags":
                    return self.reply(200, {"tags": body.get("tags", [])})
                ticket = body.get("ticket", {})
                note = (ticket.get("comment") or {}).get("body")
                with fakes.lock:
                    stamp = fakes.stamps[number]
                    current = f"2026-12-01T00:{stamp // 60 % 60:02}:{stamp % 60:02}Z"
                    if ticket.get("safe_update") and ticket.get("updated_stamp") != current:
                        return self.reply(409, {"error": "UpdateConflict"})
                    if note:
                        ref = note[note.rfind("triage-ref: "):] if "triage-ref: " in note else note
                        if any(ref in c for c in fakes.comments[number]):
                            fakes.refused_duplicate_notes += 1
                            return self.reply(422, {"error": "RecordInvalid", "description": "duplicate note"})
                        fakes.comments[number].append(note)
                        fakes.notes[number] += 1
                    fakes.stamps[number] += 1
                if note and fakes.on_note:
                    fakes.on_note(number)
                return self.reply(200, {"ticket": {"id": int(number)}})

            def do_POST(self):
                body = self.body()
                if self.path == "/v3/mail/send":
                    alert = (body.get("custom_args") or {}).get("alert_id", "?")
                    with fakes.lock:
                        fakes.emails[alert] += 1
                    return self.reply(202, b"")
                if self.path.startswith("/services/"):
                    key = json.dumps(body.get("blocks", body.get("text")), sort_keys=True)[:400]
                    with fakes.lock:
                        fakes.slack[key] += 1
                    self.send_response(200)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    return self.wfile.write(b"ok")
                if self.path == "/v1/messages":
                    with fakes.lock:
                        fakes.model_calls += 1
                    text = json.dumps(body.get("messages", "")).lower()
                    priority = "P0" if "down" in text or "nobody can" in text else "P2"
                    return self.reply(200, {
                        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
                        "content": [{"type": "tool_use", "id": "toolu_1", "name": "record_triage", "input": {
                            "priority": priority, "team": "data_analytics", "sentiment": "neutral",
                            "churn_risk": 10, "opportunity_intents": [], "kb_article_id": None,
                            "draft_reply": None, "rationale": "fake model"}}],
                        "stop_reason": "tool_use",
                        "usage": {"input_tokens": 300, "output_tokens": 90,
                                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 5000}})
                return self.reply(404, {"error": "not found"})

        return Handler

    def serve(self):
        server = QuietServer(("127.0.0.1", 0), self.handler())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class FaultProxy:
    """Forwards HTTP requests to `upstream`, replacing a share (`rate`) of them by a
    fault: a 5xx, a throttling answer (429 with Retry-After, or the AWS form of it), a
    slow answer (`slow` seconds), or a dropped connection."""

    KINDS = ["5xx", "throttle", "slow", "drop"]

    def __init__(self, name, upstream_port, rate, slow=5.0, seed=1):
        self.name = name
        self.upstream_port = upstream_port
        self.rate = rate
        self.slow = slow
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.faults = Counter()
        self.delay_added = 0.0

    def choose(self):
        with self.lock:
            self.requests += 1
            if self.random.random() >= self.rate:
                return None
            kind = self.random.choice(self.KINDS)
            self.faults[kind] += 1
            return kind

    def handler(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n) if n else b""
                fault = proxy.choose()
                target = self.headers.get("x-amz-target", "")
                if fault == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if fault == "5xx":
                    return self.answer(503, b'{"message":"Service Unavailable"}',
                                       {"content-type": "application/json"})
                if fault == "throttle":
                    if target.startswith("DynamoDB"):
                        return self.answer(400, json.dumps({
                            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                            "message": "Rate of requests exceeds the allowed throughput."}).encode(),
                            {"content-type": "application/x-amz-json-1.0"})
                    if target.startswith("AmazonSQS"):
                        return self.answer(400, json.dumps({
                            "__type": "com.amazonaws.sqs#RequestThrottled", "message": "Throttled"}).encode(),
                            {"content-type": "application/x-amz-json-1.0", "x-amzn-query-error": "RequestThrottled;Sender"})
                    if proxy.name == "aws":
                        return self.answer(503, b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>",
                                           {"content-type": "application/xml"})
                    return self.answer(429, b'{"error":"rate limited"}',
                                       {"content-type": "application/json", "retry-after": "1"})
                if fault == "slow":
                    time.sleep(proxy.slow)
                    with proxy.lock:
                        proxy.delay_added += proxy.slow
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read()
                    out = {k: v for k, v in r.getheaders()
                           if k.lower() not in ("transfer-encoding", "connection", "content-length")}
                    self.answer(r.status, data, out)
                except OSError:
                    self.answer(502, b"bad gateway", {})
                finally:
                    conn.close()

            def answer(self, status, data, headers):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

        return Handler

    def serve(self):
        server = QuietServer(("127.0.0.1", 0), self.handler())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class RuntimeApi:
    """The Lambda runtime API: hands out one event at a time and times each answer."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.first_poll = None
        self.sent_at = {}
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if api.first_poll is None:
                    api.first_poll = time.perf_counter()
                event = api.events.get()
                request_id = str(uuid.uuid4())
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("lambda-runtime-aws-request-id", request_id)
                self.send_header("lambda-runtime-deadline-ms", str(int(time.time() * 1000) + 900_000))
                self.send_header("lambda-runtime-invoked-function-arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:bench")
                self.send_header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                api.sent_at[request_id] = time.perf_counter()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = self.path.split("/")
                if "init" in parts:
                    api.answers.put(("init error", 0.0, body))
                else:
                    request_id, kind = parts[-2], parts[-1]
                    api.answers.put((kind, time.perf_counter() - api.sent_at.pop(request_id), body))
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
