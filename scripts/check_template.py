#!/usr/bin/env python3
"""Checks template.yaml for what the linters do not catch and what ties it to the code:
runtime and build settings, partial batch responses, visibility timeouts, dead-letter
queues, the table's indexes against the Rust schema, required environment variables,
binary names, secrets, and the private bucket. Exits non-zero with every problem listed.
"""

import pathlib
import re
import sys

from cfnlint.decode import decode

SHARED_ACCESSORS = {
    "bucket": "REPORT_BUCKET",
    "triage_queue_url": "TRIAGE_QUEUE_URL",
    "alerts_queue_url": "ALERTS_QUEUE_URL",
}

ROOT = pathlib.Path(__file__).resolve().parent.parent
problems = []


def check(ok, message):
    if not ok:
        problems.append(message)


template, matches = decode(str(ROOT / "template.yaml"))
if template is None:
    sys.exit(f"template.yaml does not parse: {matches}")

resources = template["Resources"]
globals_fn = template.get("Globals", {}).get("Function", {})
global_env = set(globals_fn.get("Environment", {}).get("Variables", {}))


def fn_prop(props, key):
    return props.get(key, globals_fn.get(key))


def seconds_of(value):
    return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None


functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
check(len(functions) == 4, f"expected 4 functions, found {len(functions)}")

for name, fn in functions.items():
    props = fn["Properties"]
    meta = fn.get("Metadata", {})
    check(fn_prop(props, "Runtime") == "provided.al2023", f"{name}: Runtime must be provided.al2023")
    check(fn_prop(props, "Architectures") == [{"Ref": "Architecture"}], f"{name}: Architectures must be [!Ref Architecture]")
    check(
        template["Parameters"]["Architecture"].get("Default") == "arm64",
        "the Architecture parameter must default to arm64 (deployments)",
    )
    check(fn_prop(props, "Handler") == "bootstrap", f"{name}: Handler must be bootstrap")
    check(meta.get("BuildMethod") == "rust-cargolambda", f"{name}: Metadata.BuildMethod must be rust-cargolambda")
    logging = fn_prop(props, "LoggingConfig") or {}
    check(logging.get("LogFormat") == "JSON", f"{name}: logs must be JSON")

    code = ROOT / props["CodeUri"]
    cargo = code / "Cargo.toml"
    check(cargo.is_file(), f"{name}: CodeUri {props['CodeUri']} has no Cargo.toml")
    binary = meta.get("BuildProperties", {}).get("Binary")
    if cargo.is_file():
        bins = re.findall(r'\[\[bin\]\]\s*name\s*=\s*"([^"]+)"', cargo.read_text())
        check(binary in bins, f"{name}: BuildProperties.Binary {binary!r} is not a binary of {cargo} ({bins})")
        lib = code / "src" / "lib.rs"
        main = code / "src" / "main.rs"
        required = set(re.findall(r'require\("([A-Z_]+)"\)', lib.read_text())) if lib.is_file() else set()
        # The shared settings (settings.rs, FunctionConfig): TABLE_NAME always, the
        # others where main.rs asks for them.
        main_text = main.read_text() if main.is_file() else ""
        if "FunctionConfig::read" in main_text:
            required.add("TABLE_NAME")
        for accessor, var in SHARED_ACCESSORS.items():
            if f".{accessor}()" in main_text:
                required.add(var)
        env = global_env | set(props.get("Environment", {}).get("Variables", {}))
        for var in sorted(required - env):
            problems.append(f"{name}: the function requires {var} but the template does not set it")

    timeout = seconds_of(fn_prop(props, "Timeout"))
    for event_name, event in props.get("Events", {}).items():
        if event["Type"] != "SQS":
            continue
        ep = event["Properties"]
        check(
            ep.get("FunctionResponseTypes") == ["ReportBatchItemFailures"],
            f"{name}.{event_name}: FunctionResponseTypes must be exactly [ReportBatchItemFailures]",
        )
        queue_ref = ep["Queue"]
        queue_name = queue_ref.get("Fn::GetAtt", [None])[0] if isinstance(queue_ref, dict) else None
        queue = resources.get(queue_name, {}).get("Properties", {})
        visibility = seconds_of(queue.get("VisibilityTimeout"))
        check(
            visibility is not None and timeout is not None and visibility >= 6 * timeout,
            f"{name}.{event_name}: queue {queue_name} visibility {visibility}s must be at least 6 x timeout {timeout}s",
        )
        redrive = queue.get("RedrivePolicy", {})
        check(
            "deadLetterTargetArn" in redrive and int(redrive.get("maxReceiveCount", 0)) >= 2,
            f"{queue_name}: needs a dead-letter queue with maxReceiveCount",
        )

triage = functions.get("TriageFunction", {}).get("Properties", {})
check("ReservedConcurrentExecutions" in triage, "TriageFunction: cap its concurrency (Zendesk rate limits)")

# The table against the Rust schema constants.
schema = (ROOT / "shared/src/adapters/aws/mod.rs").read_text()
const = dict(re.findall(r'pub const ([A-Z_]+): &str = "([^"]+)";', schema))
table = resources["TicketTable"]["Properties"]
check(table.get("BillingMode") == "PAY_PER_REQUEST", "TicketTable: on-demand billing")
check(table.get("TimeToLiveSpecification") == {"AttributeName": const["TTL"], "Enabled": True}, "TicketTable: TTL on expires_at")
check(
    table.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True,
    "TicketTable: point-in-time recovery",
)
keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
check(keys == {const["PK"]: "HASH", const["SK"]: "RANGE"}, f"TicketTable: key schema {keys}")
indexes = {
    i["IndexName"]: {k["AttributeName"]: k["KeyType"] for k in i["KeySchema"]} for i in table["GlobalSecondaryIndexes"]
}
for index, pk, sk in [("GSI_CUSTOMER", "GSI_CUSTOMER_PK", "GSI_CUSTOMER_SK"), ("GSI_DAY", "GSI_DAY_PK", "GSI_DAY_SK")]:
    check(
        indexes.get(const[index]) == {const[pk]: "HASH", const[sk]: "RANGE"},
        f"TicketTable: index {const[index]} must be ({const[pk]}, {const[sk]}), found {indexes.get(const[index])}",
    )

bucket = resources["ReportBucket"]["Properties"]
block = bucket.get("PublicAccessBlockConfiguration", {})
check(
    all(block.get(k) is True for k in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"]),
    "ReportBucket: block all public access",
)
check("BucketEncryption" in bucket, "ReportBucket: encryption")
check(bool(bucket.get("LifecycleConfiguration", {}).get("Rules")), "ReportBucket: lifecycle rules for old reports")

for pname, param in template.get("Parameters", {}).items():
    if re.search(r"(Secret|Token|ApiKey|WebhookUrl)$", pname):
        check(param.get("NoEcho") is True, f"parameter {pname} holds a secret and must be NoEcho")

alarms = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
check(len(alarms) >= 2, "an alarm on each dead-letter queue")
for out in ["WebhookUrl", "ReportBucketName", "TicketTableName"]:
    check(out in template.get("Outputs", {}), f"output {out} missing")

if problems:
    print("template.yaml:")
    for p in problems:
        print(f"  - {p}")
    sys.exit(1)
print(f"template.yaml: {len(functions)} functions and their resources match the code")
