"""template.yaml deployed, as far as this machine can tell (no AWS account, no network).

What `sam deploy` does, offline: the SAM translator turns template.yaml into plain CloudFormation (the
code and the layer zipped into a bucket first, as `sam package` does), and the result is created as a
stack on moto's CloudFormation. moto creates every resource type it models (the table, queues, topic,
KMS key, roles, functions, rules, ...). For the few types it has no model of (Cognito, the HTTP API,
alarms, ...) a stand-in takes the resource: moto still resolves its properties like any other's, and
each `Fn::GetAtt` on it must name an attribute the type really has (CloudFormation's resource schemas,
as shipped with cfn-lint), but nothing is created. The test prints which types were created and which
stood in.

Then, on the created stack: every Ref/GetAtt/Sub resolved (no intrinsic, no `${...}` and no Python
object left in any resource's properties or in the outputs), and each function's role, read back from
moto's IAM, allows what its code calls (CODE_CALLS below) and what its event sources and settings need
(queues it polls, its dead-letter destination, its log group, X-Ray), on the stack's real ARNs, and
nothing that must stay forbidden (a Scan, SMS to a topic, mail from another address).
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from moto import mock_aws
from moto.awslambda.models import LayerVersion
from moto.cloudformation import parsing
from moto.events.models import EventBus
from samtranslator.translator.transform import transform

from infra import cfn

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK = "peer-support-dev"
BUCKET = "peer-support-artifacts"
SENDER = "nudges@peer.example.org"
# What an operator answers in `sam deploy --guided` (a parameter not named here takes its default).
PARAMETERS = {
    "Stage": "dev",
    "SenderEmail": SENDER,
    "PublicBaseUrl": "https://peer.example.org",
    "CallbackUrl": "https://app.peer.example.org/auth/callback",
    "AppUrl": "https://app.peer.example.org",
    "AlarmEmail": "ops@peer.example.org",
}

# The AWS calls each function's handler makes, recorded by running the integration tests that drive
# every function with tests/aws_calls_plugin.py (its docstring says how), then written down here: the
# role check below is against what the code does, not against what the template says. Notation:
# service.Operation, @ the index it queries (@phone: a text; @SenderEmail|<configuration set>: an
# email), :Put etc. for each kind of item a transaction or batch carries. A deployed function missing
# from this map fails the test; after changing what a function calls, record it again.
CODE_CALLS: dict[str, set[str]] = {
    "ApiFunction": {
        "dynamodb.BatchGetItem",
        "dynamodb.BatchWriteItem",
        "dynamodb.BatchWriteItem:DeleteRequest",
        "dynamodb.BatchWriteItem:PutRequest",
        "dynamodb.DeleteItem",
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query",
        "dynamodb.Query@gsi1",
        "dynamodb.Query@gsi2",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Delete",
        "dynamodb.TransactWriteItems:Put",
        "dynamodb.TransactWriteItems:Update",
        "dynamodb.UpdateItem",
    },
    "CalendarFeedFunction": {
        "dynamodb.GetItem",
        "dynamodb.Query",
        "dynamodb.Query@gsi1",
    },
    "DigestSenderFunction": {
        "dynamodb.BatchGetItem",
        "dynamodb.DeleteItem",
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query",
        "dynamodb.Query@gsi1",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Put",
        "dynamodb.TransactWriteItems:Update",
        "dynamodb.UpdateItem",
        "sesv2.SendEmail@SenderEmail|NudgeConfigurationSet",
    },
    "DigestSweepFunction": {
        "dynamodb.Query@digest_due",
        "sqs.SendMessageBatch",
    },
    "EventRelayFunction": {
        "events.PutEvents",
    },
    "GroupSweepFunction": {
        "dynamodb.BatchGetItem",
        "dynamodb.Query",
        "dynamodb.Query@group_due",
        "dynamodb.Query@remind_due",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Put",
        "dynamodb.TransactWriteItems:Update",
        "sqs.SendMessageBatch",
    },
    "HabitSweepFunction": {
        "dynamodb.BatchGetItem",
        "dynamodb.BatchWriteItem",
        "dynamodb.BatchWriteItem:PutRequest",
        "dynamodb.DeleteItem",
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query@habit_due",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Put",
        "dynamodb.TransactWriteItems:Update",
        "dynamodb.UpdateItem",
        "sesv2.SendEmail@SenderEmail|NudgeConfigurationSet",
        "sns.CheckIfPhoneNumberIsOptedOut",
        "sns.Publish@phone",
    },
    "LinksFunction": {
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query",
        "dynamodb.Query@gsi1",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Delete",
        "dynamodb.TransactWriteItems:Put",
        "dynamodb.TransactWriteItems:Update",
    },
    "NotifyFunction": {
        "dynamodb.BatchWriteItem",
        "dynamodb.BatchWriteItem:PutRequest",
        "dynamodb.DeleteItem",
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query",
        "dynamodb.Query@gsi1",
        "dynamodb.UpdateItem",
        "sesv2.SendEmail@SenderEmail|",
        "sesv2.SendEmail@SenderEmail|NudgeConfigurationSet",
    },
    "NudgeSenderFunction": {
        "dynamodb.BatchGetItem",
        "dynamodb.BatchWriteItem",
        "dynamodb.BatchWriteItem:PutRequest",
        "dynamodb.DeleteItem",
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query@gsi1",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Put",
        "dynamodb.TransactWriteItems:Update",
        "dynamodb.UpdateItem",
        "sesv2.SendEmail@SenderEmail|NudgeConfigurationSet",
    },
    "NudgeSweepFunction": {
        "dynamodb.Query@nudge_due",
        "sqs.SendMessageBatch",
    },
    "ReminderSenderFunction": {
        "dynamodb.BatchWriteItem",
        "dynamodb.BatchWriteItem:PutRequest",
        "dynamodb.DeleteItem",
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query",
        "dynamodb.Query@gsi1",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Put",
        "dynamodb.TransactWriteItems:Update",
        "dynamodb.UpdateItem",
        "sesv2.SendEmail@SenderEmail|NudgeConfigurationSet",
    },
    "SmsSweepFunction": {
        "dynamodb.DeleteItem",
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query@gsi1",
        "dynamodb.Query@sms_due",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Update",
        "dynamodb.UpdateItem",
        "sns.CheckIfPhoneNumberIsOptedOut",
        "sns.Publish@phone",
    },
    "SuppressionFunction": {
        "dynamodb.GetItem",
        "dynamodb.PutItem",
        "dynamodb.Query@gsi1",
        "dynamodb.TransactWriteItems",
        "dynamodb.TransactWriteItems:Update",
    },
    "TokenClaimsFunction": {},
}


# ------------------------------------------------------------------ packaging and transform


def _zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(folder))
    return buf.getvalue()


def package(tpl: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """`sam package`: each local CodeUri/ContentUri becomes an object in the artifacts bucket."""
    tpl = copy.deepcopy(tpl)
    artifacts: dict[str, bytes] = {}
    for logical_id, res in tpl["Resources"].items():
        key = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}.get(res["Type"])
        if key is None or not isinstance(res["Properties"].get(key), str) or res["Properties"][key].startswith("s3://"):
            continue
        # The layer's folder is the whole repository (its Makefile picks shared/); the zip holds shared/ only.
        folder = cfn.ROOT / res["Properties"][key]
        artifacts[f"{logical_id}.zip"] = _zip_folder(folder / "shared" if key == "ContentUri" else folder)
        res["Properties"][key] = f"s3://{BUCKET}/{logical_id}.zip"
    return tpl, artifacts


class _NoManagedPolicies:
    """The translator asks IAM for AWS managed policy ARNs by name only when a template names one: offline, none."""

    def load(self) -> dict[str, str]:
        return {}


def parameter_values(tpl: dict[str, Any]) -> dict[str, str]:
    values = {}
    for name, spec in tpl["Parameters"].items():
        value = PARAMETERS.get(name, spec.get("Default"))
        assert value is not None, f"parameter {name} has no default: say what an operator would answer in PARAMETERS"
        values[name] = str(value)
    return values


# ------------------------------------------------------------------ stand-ins for types moto cannot create


class StandIn:
    """A resource of a type moto's CloudFormation has no model of: resolved, checked, kept; not created."""

    resolved: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, type_name: str, logical_id: str, name: str, properties: dict[str, Any]) -> None:
        self.type_name = type_name
        self.logical_id = logical_id
        self.name = name
        self.properties = properties

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> StandIn:
        stand_in = cls(kwargs["ResourceType"], kwargs["LogicalId"], resource_name, cloudformation_json.get("Properties") or {})
        if stand_in.type_name == "AWS::Lambda::Alias":
            # AutoPublishAlias: what invokes a function names its alias (event source mappings look it up
            # when created), so the alias is made in moto's Lambda on a version published there.
            awslambda = boto3.client("lambda", region_name=region_name)
            function = str(stand_in.properties["FunctionName"])
            version = awslambda.publish_version(FunctionName=function)["Version"]
            awslambda.create_alias(FunctionName=function, Name=str(stand_in.properties["Name"]), FunctionVersion=version)
        return stand_in

    @property
    def physical_resource_id(self) -> str:
        """What `Ref` answers: for the types whose Ref is an ARN, an ARN of CloudFormation's form."""
        if self.type_name in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            function = str(self.properties["FunctionName"]).rsplit(":function:", 1)[-1]
            qualifier = self.properties.get("Name", "1")
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}:{qualifier}"
        return self.name

    def get_cfn_attribute(self, attribute: str) -> str:
        known = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, self.type_name).get_atts
        if attribute not in known:
            raise AssertionError(f"Fn::GetAtt {self.logical_id}.{attribute}: {self.type_name} has no such attribute ({sorted(known)})")
        if attribute == "Arn":
            service, kind = self.type_name.split("::")[1:]
            return f"arn:aws:{service.lower()}:{REGION}:{ACCOUNT}:{kind.lower()}/{self.name}"
        return f"{self.name}-{attribute}"

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        return None


# ------------------------------------------------------------------ the stack

# Types moto models too thinly for CloudFormation to refer to (moto's Lambda version has neither a
# physical id nor attributes, so an alias's `!GetAtt Version.Version` fails in moto, not in AWS).
TOO_THIN_IN_MOTO = {"AWS::Lambda::Version"}


@dataclass
class Deployed:
    transformed: dict[str, Any]
    physical: dict[str, str]  # logical id -> physical id
    types: dict[str, str]  # logical id -> type
    created: Counter[str] = field(default_factory=Counter)
    stood_in: Counter[str] = field(default_factory=Counter)
    resolved: dict[str, Any] = field(default_factory=dict)  # logical id -> properties as moto resolved them
    outputs: dict[str, str] = field(default_factory=dict)
    template_bytes: int = 0


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    tpl, artifacts = package(cfn.template())
    values = parameter_values(tpl)
    transformed = transform(tpl, values, _NoManagedPolicies())
    body = json.dumps(transformed)
    types_in_template = {res["Type"] for res in transformed["Resources"].values()}
    missing = sorted(t for t in types_in_template if t not in parsing.get_model_map() or t in TOO_THIN_IN_MOTO)
    resolved: dict[str, Any] = {}
    original_create = parsing.parse_and_create_resource

    def recording(logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str) -> Any:
        resource = original_create(logical_id, resource_json, resources_map, account_id, region_name)
        if resource is not None:
            resolved[logical_id] = parsing.clean_json(copy.deepcopy(resource_json.get("Properties") or {}), resources_map)
        return resource

    with pytest.MonkeyPatch.context() as mp, mock_aws():
        for type_name in missing:
            mp.setitem(parsing.get_model_map(), type_name, StandIn)
        mp.setattr(parsing, "parse_and_create_resource", recording)
        # moto's EventBus has no physical id, so `!Ref EventBus` resolved to the Python object; CloudFormation
        # answers the bus name. (Without this, the Events::Rule on the bus fails in moto, not in AWS.)
        mp.setattr(EventBus, "physical_resource_id", property(lambda bus: bus.name), raising=False)
        # The same for a layer version: CloudFormation's Ref is its ARN (the functions' Layers list it).
        mp.setattr(LayerVersion, "physical_resource_id", property(lambda layer: layer.arn), raising=False)
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        for key, data in artifacts.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        cf = boto3.client("cloudformation", region_name=REGION)
        cf.create_stack(
            StackName=STACK,
            TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cf.describe_stacks(StackName=STACK)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        summaries = cf.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        result = Deployed(
            transformed=transformed,
            physical={s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries},
            types={s["LogicalResourceId"]: s["ResourceType"] for s in summaries},
            resolved=resolved,
            outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            template_bytes=len(body.encode()),
        )
        for summary in summaries:
            (result.stood_in if summary["ResourceType"] in missing else result.created)[summary["ResourceType"]] += 1
        yield result


def test_every_resource_is_created_or_stands_in(deployed: Deployed) -> None:
    resources = deployed.transformed["Resources"]
    # A resource under a condition is created only when it holds, by CloudFormation as by moto.
    unconditional = {logical_id for logical_id, res in resources.items() if "Condition" not in res}
    print(f"\ntransformed template: {len(deployed.transformed['Resources'])} resources, {deployed.template_bytes} bytes")
    print("created by moto:", dict(sorted(deployed.created.items())))
    print("stood in (moto has no CloudFormation model):", dict(sorted(deployed.stood_in.items())))
    print("conditional, created:", sorted(set(deployed.physical) - unconditional))
    assert unconditional <= set(deployed.physical)
    assert set(deployed.physical) <= set(resources)
    # Every resource something refers to has a physical id (moto gives none to a few nobody refers to).
    referred = {ref for res in deployed.transformed["Resources"].values() for ref in _refs(res)}
    assert [logical_id for logical_id in sorted(referred & set(deployed.physical)) if not deployed.physical[logical_id]] == []
    # CloudFormation's own limits: 500 resources a stack, 1 MB for a template sam deploy uploads to S3.
    assert len(deployed.physical) <= 500
    assert deployed.template_bytes < 1_000_000
    # The core of the system is created for real, not stood in.
    for must_be_real in (
        "AWS::DynamoDB::Table",
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::KMS::Key",
    ):
        assert deployed.created[must_be_real] > 0, must_be_real


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            yield value["Ref"]
        for inner in value.values():
            yield from _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _refs(inner)


def _unresolved(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" or key.startswith("Fn::"):
                yield f"{where}: {key} left as is"
            yield from _unresolved(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for number, inner in enumerate(value):
            yield from _unresolved(inner, f"{where}[{number}]")
    elif isinstance(value, str):
        if "${" in value:
            yield f"{where}: {value!r} has an unresolved ${{...}}"
    elif value is not None and not isinstance(value, int | float | bool):
        yield f"{where}: a {type(value).__name__} object instead of a value"


def test_every_ref_getatt_and_sub_resolves(deployed: Deployed) -> None:
    problems = [p for logical_id, props in deployed.resolved.items() for p in _unresolved(props, logical_id)]
    problems += [p for key, value in deployed.outputs.items() for p in _unresolved(value, f"Outputs.{key}")]
    print(f"\nresolved: {len(deployed.resolved)} resources' properties, {len(deployed.outputs)} outputs")
    for key, value in sorted(deployed.outputs.items()):
        print(f"  {key} = {value}")
    assert problems == []
    assert set(deployed.outputs) == set(deployed.transformed["Outputs"])
    assert deployed.outputs["ApiUrl"].startswith(f"https://{deployed.physical['HttpApi']}.execute-api.{REGION}.amazonaws.com")
    assert deployed.outputs["TableName"] == deployed.physical[cfn.table_logical_id()]


# ------------------------------------------------------------------ what each role allows


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Any, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: * any run of characters (slashes too), ? one character."""
    if ignore_case:
        return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in _listed(patterns))
    return any(fnmatch.fnmatchcase(value, str(p)) for p in _listed(patterns))


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator in ("StringEquals", "ArnEquals"):
                ok = actual in _listed(expected)
            elif operator in ("StringLike", "ArnLike"):
                ok = _matches(expected, actual)
            else:
                raise AssertionError(f"this evaluator does not know the condition operator {operator}: teach it rather than guess")
            if not ok:
                return False
    return True


def decide(statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str] | None = None) -> str:
    """IAM's evaluation for one principal's identity policies: an explicit Deny wins, then an Allow, else denied."""
    context = context or {}
    verdict = "implicitly denied"
    for st in statements:
        if {"NotAction", "NotResource", "NotPrincipal"} & set(st):
            raise AssertionError(f"this evaluator does not read NotAction/NotResource: {st}")
        if not _matches(st["Action"], action, ignore_case=True) or not _matches(st["Resource"], resource):
            continue
        if "Condition" in st and not _condition_holds(st["Condition"], context):
            continue
        if st["Effect"] == "Deny":
            return "explicitly denied"
        verdict = "allowed"
    return verdict


@cache
def aws_managed_policy(name: str) -> dict[str, Any]:
    """An AWS managed policy's document, from the copy moto ships (moto's IAM would load all ~1,400 per region: slow)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    document: dict[str, Any] = json.loads(aws_managed_policies_data)[name]["Document"]
    return document


def _policy_document(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    try:
        parsed: dict[str, Any] = json.loads(document)
    except json.JSONDecodeError:
        # moto's IAM keeps an inline policy CloudFormation gave it as the str() of a dict, not as JSON.
        parsed = ast.literal_eval(document)
    return parsed


def role_statements(deployed: Deployed, function: str) -> list[dict[str, Any]]:
    """The statements of the function's role: its inline policies read back from moto's IAM, and the
    managed policies CloudFormation attaches (AWS's own, whose documents come from the copy moto ships)."""
    role_id = deployed.transformed["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    name = deployed.physical[role_id]
    iam = boto3.client("iam", region_name=REGION)
    documents = [
        iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"] for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
    ]
    assert len(documents) == len(deployed.resolved[role_id].get("Policies") or []), f"{role_id}: moto's IAM lost an inline policy"
    for arn in deployed.resolved[role_id].get("ManagedPolicyArns") or []:
        assert arn.startswith("arn:aws:iam::aws:policy/"), f"{role_id}: teach this test to read the managed policy {arn}"
        documents.append(aws_managed_policy(arn.rsplit("/", 1)[1]))
    statements = []
    for document in documents:
        parsed = _policy_document(document)
        statements += _listed(parsed["Statement"])
    return statements


@dataclass(frozen=True)
class Need:
    action: str
    resource: str
    why: str
    context: tuple[tuple[str, str], ...] = ()


class Arns:
    """The stack's real ARNs, read back from moto."""

    def __init__(self, deployed: Deployed) -> None:
        self.deployed = deployed

    def of(self, logical_id: str) -> str:
        physical, type_name = self.deployed.physical[logical_id], self.deployed.types[logical_id]
        if type_name == "AWS::DynamoDB::Table":
            return str(boto3.client("dynamodb", region_name=REGION).describe_table(TableName=physical)["Table"]["TableArn"])
        if type_name == "AWS::SQS::Queue":
            attrs = boto3.client("sqs", region_name=REGION).get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])
            return str(attrs["Attributes"]["QueueArn"])
        if type_name == "AWS::Events::EventBus":
            return str(boto3.client("events", region_name=REGION).describe_event_bus(Name=physical)["Arn"])
        if type_name in ("AWS::SNS::Topic",):
            return physical
        if type_name == "AWS::KMS::Key":
            # (moto's DescribeKey fails on a key CloudFormation made: it keeps the key policy as a dict, not JSON)
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{physical}"
        raise AssertionError(f"no ARN known for {type_name}")

    def of_type(self, type_name: str) -> dict[str, str]:
        return {logical_id: self.of(logical_id) for logical_id, t in self.deployed.types.items() if t == type_name}

    @property
    def table(self) -> str:
        return self.of(cfn.table_logical_id())

    def queue_url_arns(self) -> dict[str, str]:
        return {self.deployed.physical[q]: arn for q, arn in self.of_type("AWS::SQS::Queue").items()}


_TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def code_needs(function: str, call: str, arns: Arns, environment: dict[str, str]) -> list[Need]:
    """The IAM action(s) and resource(s) one recorded call needs."""
    operation, _, target = call.partition("@")
    service, _, name = operation.partition(".")
    name, _, item_kind = name.partition(":")
    why = f"its code calls {call}"
    if service == "dynamodb":
        if name in ("TransactWriteItems", "TransactGetItems"):  # authorised item by item
            return [Need(f"dynamodb:{_TRANSACTION_ITEM_ACTIONS[item_kind]}", arns.table, why)] if item_kind else []
        if item_kind:  # the kinds of request a batch carries: the batch's own action covers them
            return []
        return [Need(f"dynamodb:{name}", f"{arns.table}/index/{target}" if target else arns.table, why)]
    if service == "sesv2" and name == "SendEmail":
        _, _, configuration_set = target.partition("|")
        domain = SENDER.split("@", 1)[1]
        context = (("ses:FromAddress", SENDER),)
        needs = [Need("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{domain}", why, context)]
        if configuration_set:  # the logical id of the configuration set the call names
            set_name = arns.deployed.physical[configuration_set]
            needs.append(Need("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{set_name}", why, context))
        return needs
    if service == "sns" and (target == "phone" or name == "CheckIfPhoneNumberIsOptedOut"):
        return [Need(f"sns:{name}", "*", why)]
    if service == "events" and name == "PutEvents":
        return [Need("events:PutEvents", arn, why) for arn in arns.of_type("AWS::Events::EventBus").values()]
    if service == "sqs" and name in ("SendMessage", "SendMessageBatch"):
        queues = [arn for url, arn in arns.queue_url_arns().items() if url in environment.values()]
        assert queues, f"{function} sends to SQS but its environment names no queue of the stack"
        return [Need("sqs:SendMessage", arn, why) for arn in queues]
    raise AssertionError(f"{function}: teach this test which IAM action {call} needs")


def _names_function(value: Any, name: str) -> bool:
    """A FunctionName property naming this function: its name, its ARN, or an alias or version ARN of it."""
    return isinstance(value, str) and (value == name or value.endswith(f":function:{name}") or f":function:{name}:" in value)


def template_needs(function: str, deployed: Deployed, arns: Arns) -> list[Need]:
    """What the function's settings and event sources need of its role, whatever its code does."""
    props = deployed.resolved[function]
    name = deployed.physical[function]
    needs = []
    group = (props.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        needs.append(Need(action, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:2026/12/01/[$LATEST]abc", "it logs"))
    if (props.get("TracingConfig") or {}).get("Mode") == "Active":
        needs += [Need(a, "*", "tracing is active") for a in ("xray:PutTraceSegments", "xray:PutTelemetryRecords")]
    for logical_id, resolved in deployed.resolved.items():
        if not _names_function(resolved.get("FunctionName"), name):
            continue
        if deployed.types[logical_id] == "AWS::Lambda::EventSourceMapping" and ":sqs:" in resolved["EventSourceArn"]:
            queue = resolved["EventSourceArn"]
            needs += [Need(a, queue, f"it polls {queue}") for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")]
        if deployed.types[logical_id] == "AWS::Lambda::EventInvokeConfig":
            for outcome, destination in (resolved.get("DestinationConfig") or {}).items():
                assert ":sqs:" in destination["Destination"], f"teach this test what a {outcome} destination needs"
                needs.append(Need("sqs:SendMessage", destination["Destination"], f"its {outcome} destination"))
    return needs


def forbidden(deployed: Deployed, arns: Arns) -> list[Need]:
    """What no function may do, whatever its code: a Scan, a publish to a topic, mail from another address, the topic key."""
    table = arns.table
    indexes = [i["IndexName"] for i in cfn.create_table_kwargs("t").get("GlobalSecondaryIndexes", [])]
    out = [Need("dynamodb:Scan", resource, "no Scan in product code") for resource in [table] + [f"{table}/index/{i}" for i in indexes]]
    out += [Need("sns:Publish", arn, "texts go to phone numbers only") for arn in arns.of_type("AWS::SNS::Topic").values()]
    domain = SENDER.split("@", 1)[1]
    out.append(
        Need(
            "ses:SendEmail",
            f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{domain}",
            "mail only from SenderEmail",
            (("ses:FromAddress", f"ceo@{domain}"),),
        )
    )
    out += [Need("kms:Decrypt", arn, "SNS decrypts for its subscribers") for arn in arns.of_type("AWS::KMS::Key").values()]
    return out


def test_each_role_allows_what_its_function_needs_and_nothing_forbidden(deployed: Deployed) -> None:
    arns = Arns(deployed)
    functions = sorted(logical_id for logical_id, t in deployed.types.items() if t == "AWS::Lambda::Function")
    assert functions
    never = forbidden(deployed, arns)
    problems = []
    print(f"\n{'function':<26} {'calls':>5} {'allowed':>8} {'forbidden':>10}")
    for function in functions:
        assert function in CODE_CALLS, f"{function} is deployed but this test does not know what its code calls: record it (see CODE_CALLS)"
        props = deployed.resolved[function]
        statements = role_statements(deployed, function)
        environment = (props.get("Environment") or {}).get("Variables") or {}
        needs = [n for call in sorted(CODE_CALLS[function]) for n in code_needs(function, call, arns, environment)]
        needs += template_needs(function, deployed, arns)
        for need in needs:
            verdict = decide(statements, need.action, need.resource, dict(need.context))
            if verdict != "allowed":
                problems.append(f"{function}: {need.action} on {need.resource} ({need.why}) is {verdict}")
        for need in never:
            verdict = decide(statements, need.action, need.resource, dict(need.context))
            if verdict == "allowed":
                problems.append(f"{function}: {need.action} on {need.resource} is allowed ({need.why})")
        print(f"{function:<26} {len(CODE_CALLS[function]):>5} {len(needs):>8} {len(never):>10}")
    assert problems == []
    # The map describes deployed functions only: a function that was removed is removed here too.
    assert set(CODE_CALLS) == set(functions)


@pytest.mark.parametrize(
    ("statements", "action", "resource", "context", "verdict"),
    [
        ([{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}], "sns:Publish", "*", {}, "allowed"),
        (
            [
                {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"},
                {"Effect": "Deny", "Action": "sns:Publish", "Resource": "arn:aws:sns:*:*:*"},
            ],
            "SNS:Publish",
            "arn:aws:sns:eu-west-1:123456789012:topic",
            {},
            "explicitly denied",
        ),
        (
            [{"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": "arn:t"}],
            "dynamodb:Query",
            "arn:t/index/gsi1",
            {},
            "implicitly denied",
        ),
        ([{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:t/index/*"}], "dynamodb:Query", "arn:t/index/gsi1", {}, "allowed"),
        (
            [{"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*", "Condition": {"StringEquals": {"ses:FromAddress": "a@x"}}}],
            "ses:SendEmail",
            "arn:i",
            {"ses:FromAddress": "b@x"},
            "implicitly denied",
        ),
        (
            [{"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*", "Condition": {"StringEquals": {"ses:FromAddress": "a@x"}}}],
            "ses:SendEmail",
            "arn:i",
            {"ses:FromAddress": "a@x"},
            "allowed",
        ),
    ],
)
def test_the_evaluator_follows_iam(
    statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str], verdict: str
) -> None:
    assert decide(statements, action, resource, context) == verdict


def test_the_encrypted_topic_and_the_route_throttles_arrive_as_deployed(deployed: Deployed) -> None:
    """Two things template.yaml only says: moto's SNS holds the topic under the stack's key, and every
    route a stage setting names is a route of the API (a setting for a missing route fails the deploy)."""
    sns = boto3.client("sns", region_name=REGION)
    for topic, props in deployed.resolved.items():
        if deployed.types[topic] == "AWS::SNS::Topic" and "KmsMasterKeyId" in props:
            attributes = sns.get_topic_attributes(TopicArn=deployed.physical[topic])["Attributes"]
            assert attributes["KmsMasterKeyId"] == props["KmsMasterKeyId"]
            assert deployed.types[next(k for k, v in deployed.physical.items() if v == props["KmsMasterKeyId"])] == "AWS::KMS::Key"
    checked = 0
    for stage, props in deployed.resolved.items():
        if deployed.types[stage] != "AWS::ApiGatewayV2::Stage":
            continue
        api = next(res for res in deployed.transformed["Resources"].values() if res["Type"] == "AWS::ApiGatewayV2::Api")
        paths = api["Properties"]["Body"]["paths"]
        for route_key in props.get("RouteSettings") or {}:
            method, path = route_key.split(" ", 1)
            operations = paths.get(path) or {}
            assert method.lower() in operations or "x-amazon-apigateway-any-method" in operations, f"{route_key} is no route of the API"
            checked += 1
    print(f"\nroute settings checked against the API's routes: {checked}")
    assert checked > 0
