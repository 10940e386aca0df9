"""Read `template.yaml`: the one source of truth for the table, the routes and the schedules.

Tests and the local stack both go through this module, so nothing about the
deployed shape is written twice. The YAML loader understands CloudFormation's
short-form tags (`!Ref`, `!GetAtt`, `!Sub`, ...) and turns them into their
long form (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`), as CloudFormation does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that knows the CloudFormation short-form intrinsic functions."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - our loader is a SafeLoader subclass


@cache
def template() -> dict[str, Any]:
    return load_template()


def resource(logical_id: str, tpl: dict[str, Any] | None = None) -> dict[str, Any]:
    tpl = tpl or template()
    return tpl["Resources"][logical_id]


def resources_of_type(type_name: str, tpl: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    tpl = tpl or template()
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == type_name}


# ------------------------------------------------------------------ the table


def table_logical_id(tpl: dict[str, Any] | None = None) -> str:
    tables = resources_of_type("AWS::DynamoDB::Table", tpl)
    if len(tables) != 1:
        raise ValueError(f"expected exactly one DynamoDB table in the template, found {sorted(tables)}")
    return next(iter(tables))


def create_table_kwargs(table_name: str, tpl: dict[str, Any] | None = None) -> dict[str, Any]:
    """`dynamodb.create_table(**kwargs)` for the template's table: keys, attributes, GSIs, LSIs."""
    props = resource(table_logical_id(tpl), tpl)["Properties"]
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            kwargs[key] = [{k: v for k, v in index.items() if k != "ContributorInsightsSpecification"} for index in props[key]]
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        kwargs["SSESpecification"] = {"Enabled": True}
    if props.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": props["StreamSpecification"]["StreamViewType"]}
    return kwargs


def ttl_attribute(tpl: dict[str, Any] | None = None) -> str | None:
    spec = resource(table_logical_id(tpl), tpl)["Properties"].get("TimeToLiveSpecification") or {}
    return spec.get("AttributeName") if spec.get("Enabled") else None


def create_table(client: Any, table_name: str, tpl: dict[str, Any] | None = None) -> None:
    """Create the template's table (and turn on its TTL) through a boto3 DynamoDB client."""
    client.create_table(**create_table_kwargs(table_name, tpl))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    ttl = ttl_attribute(tpl)
    if ttl:
        client.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})


# ------------------------------------------------------------------ functions, routes, schedules


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str  # module.attribute, relative to code_uri
    environment: dict[str, Any]

    @property
    def module_file(self) -> Path:
        module, _ = self.handler.rsplit(".", 1)
        return self.code_uri / (module.replace(".", "/") + ".py")

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # /members/me, /c/{token}, /{proxy+}
    function: str  # logical id
    scopes: tuple[str, ...] | None  # None: the route opts out of the authorizer
    authorizer: str | None

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when this route serves the request, else None."""
        if self.method not in ("ANY", method.upper()):
            return None
        # DOTALL: a decoded path may hold a newline (%0A), and API Gateway still routes it.
        match = re.fullmatch(_path_pattern(self.path), path, re.DOTALL)
        return match.groupdict() if match else None

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers exact paths, then more literal segments, then a method over ANY."""
        greedy = self.path.endswith("+}")
        literal = sum(1 for seg in self.path.split("/") if seg and not seg.startswith("{"))
        return (0 if greedy else 1, literal, 0 if self.method == "ANY" else 1)


@cache
def _path_pattern(path: str) -> str:
    parts = []
    for segment in path.strip("/").split("/"):
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        plain = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            parts.append(f"(?P<{greedy.group(1)}>.+)")
        elif plain:
            parts.append(f"(?P<{plain.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return "/" + "/".join(parts)


@dataclass(frozen=True)
class Schedule:
    function: str
    name: str
    expression: str  # rate(15 minutes) or cron(...)
    input: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRule:
    function: str
    name: str
    bus: Any  # the EventBusName value (usually {"Ref": ...})
    pattern: dict[str, Any]


def event_rules(tpl: dict[str, Any] | None = None) -> list[EventRule]:
    """EventBridgeRule events of every function: which domain events reach which function."""
    tpl = tpl or template()
    out = []
    for logical_id, res in resources_of_type("AWS::Serverless::Function", tpl).items():
        for name, event in (res["Properties"].get("Events") or {}).items():
            if event["Type"] == "EventBridgeRule":
                props = event["Properties"]
                out.append(EventRule(logical_id, name, props.get("EventBusName", "default"), props["Pattern"]))
    return out


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: Any  # {"Fn::GetAtt": [logical id, "Arn"]}
    batch_size: int
    reports_failures: bool


def queue_sources(tpl: dict[str, Any] | None = None) -> list[QueueSource]:
    """SQS event sources of every function."""
    tpl = tpl or template()
    out = []
    for logical_id, res in resources_of_type("AWS::Serverless::Function", tpl).items():
        for event in (res["Properties"].get("Events") or {}).values():
            if event["Type"] == "SQS":
                props = event["Properties"]
                reports = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
                out.append(QueueSource(logical_id, props["Queue"], int(props.get("BatchSize", 10)), reports))
    return out


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source: which function, and how Lambda would poll for it."""

    function: str
    batch_size: int
    filters: tuple[dict[str, Any], ...]  # EventBridge-style patterns; a record matching any is delivered
    reports_failures: bool
    max_retries: int
    bisect: bool
    on_failure: Any  # {"Fn::GetAtt": [queue, "Arn"]} or None


def stream_sources(tpl: dict[str, Any] | None = None) -> list[StreamSource]:
    """DynamoDB stream event sources of every function."""
    tpl = tpl or template()
    out = []
    for logical_id, res in resources_of_type("AWS::Serverless::Function", tpl).items():
        for event in (res["Properties"].get("Events") or {}).values():
            if event["Type"] == "DynamoDB":
                props = event["Properties"]
                filters = tuple(json.loads(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", []))
                out.append(
                    StreamSource(
                        function=logical_id,
                        batch_size=int(props.get("BatchSize", 100)),
                        filters=filters,
                        reports_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                        max_retries=int(props.get("MaximumRetryAttempts", -1)),
                        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                        on_failure=((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
                    )
                )
    return out


def _globals_function(tpl: dict[str, Any]) -> dict[str, Any]:
    return (tpl.get("Globals") or {}).get("Function") or {}


def functions(tpl: dict[str, Any] | None = None, root: Path = ROOT) -> dict[str, Function]:
    tpl = tpl or template()
    glob = _globals_function(tpl)
    out = {}
    for logical_id, res in resources_of_type("AWS::Serverless::Function", tpl).items():
        props = res["Properties"]
        env = dict(((glob.get("Environment") or {}).get("Variables")) or {})
        env.update(((props.get("Environment") or {}).get("Variables")) or {})
        out[logical_id] = Function(
            logical_id=logical_id,
            code_uri=root / props["CodeUri"],
            handler=props["Handler"],
            environment=env,
        )
    return out


def http_routes(tpl: dict[str, Any] | None = None) -> list[Route]:
    """Every HttpApi route of every function, most specific first (the order API Gateway matches in)."""
    tpl = tpl or template()
    api_auth = {}
    for api in resources_of_type("AWS::Serverless::HttpApi", tpl).values():
        api_auth = api["Properties"].get("Auth") or {}
    default_authorizer = api_auth.get("DefaultAuthorizer")
    authorizers = api_auth.get("Authorizers") or {}
    routes = []
    for logical_id, res in resources_of_type("AWS::Serverless::Function", tpl).items():
        for event in (res["Properties"].get("Events") or {}).values():
            if event["Type"] != "HttpApi":
                continue
            props = event.get("Properties") or {}
            auth = props.get("Auth") or {}
            authorizer = auth.get("Authorizer", default_authorizer)
            if authorizer in (None, "NONE"):
                scopes = None
                authorizer = None
            else:
                scopes = tuple(auth.get("AuthorizationScopes") or authorizers[authorizer].get("AuthorizationScopes") or ())
            routes.append(
                Route(
                    method=str(props.get("Method", "ANY")).upper(),
                    path=props.get("Path", "/{proxy+}"),
                    function=logical_id,
                    scopes=scopes,
                    authorizer=authorizer,
                )
            )
    return sorted(routes, key=lambda r: r.specificity, reverse=True)


def jwt_configuration(tpl: dict[str, Any] | None = None) -> dict[str, Any]:
    tpl = tpl or template()
    for api in resources_of_type("AWS::Serverless::HttpApi", tpl).values():
        for authorizer in ((api["Properties"].get("Auth") or {}).get("Authorizers") or {}).values():
            if "JwtConfiguration" in authorizer:
                return {k.lower(): v for k, v in authorizer["JwtConfiguration"].items()}
    raise ValueError("no JWT authorizer in the template")


def schedules(tpl: dict[str, Any] | None = None) -> list[Schedule]:
    """Scheduled events (`Schedule` and `ScheduleV2`) of every function."""
    tpl = tpl or template()
    out = []
    for logical_id, res in resources_of_type("AWS::Serverless::Function", tpl).items():
        for name, event in (res["Properties"].get("Events") or {}).items():
            if event["Type"] not in ("Schedule", "ScheduleV2"):
                continue
            props = event.get("Properties") or {}
            if props.get("State", "ENABLED") != "ENABLED" or props.get("Enabled") is False:
                continue
            out.append(
                Schedule(
                    function=logical_id,
                    name=name,
                    expression=props["ScheduleExpression"] if "ScheduleExpression" in props else props["Schedule"],
                    input=props.get("Input"),
                )
            )
    return out


# ------------------------------------------------------------------ intrinsic functions, locally


class Resolver:
    """Resolve the intrinsic functions the local stack meets in environment variables.

    `names` maps a logical id (resource or parameter) to the value `Ref` gives locally.
    """

    def __init__(
        self,
        names: dict[str, str],
        tpl: dict[str, Any] | None = None,
        pseudo: dict[str, str] | None = None,
        attributes: dict[tuple[str, str], str] | None = None,
    ):
        self.tpl = tpl or template()
        self.names = names
        self.attributes = attributes or {}
        self.pseudo = {
            "AWS::Region": "eu-west-1",
            "AWS::AccountId": "123456789012",
            "AWS::StackName": "peer-support-local",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
            **(pseudo or {}),
        }

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.names:
            return self.names[name]
        param = (self.tpl.get("Parameters") or {}).get(name)
        if param is not None:
            return str(param.get("Default", ""))
        return name

    def condition(self, name: str) -> bool:
        return bool(self.resolve((self.tpl.get("Conditions") or {})[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg
            if (logical_id, attribute) in self.attributes:
                return self.attributes[(logical_id, attribute)]
            return f"arn:aws:local:{self.pseudo['AWS::Region']}:{self.pseudo['AWS::AccountId']}:{self.ref(logical_id)}/{attribute}"
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(variables.get(m.group(1)) or self._sub_var(m.group(1))), text)
        if key == "Fn::Join":
            sep, items = arg
            return sep.join(str(self.resolve(i)) for i in items)
        if key == "Fn::If":
            cond, yes, no = arg
            return self.resolve(yes if self.condition(cond) else no)
        if key == "Fn::Equals":
            a, b = self.resolve(arg)
            return a == b
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_var(self, name: str) -> str:
        if "." in name:
            return self.resolve({"Fn::GetAtt": name.split(".", 1)})
        return self.ref(name)
