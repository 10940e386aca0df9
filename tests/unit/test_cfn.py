"""Reading template.yaml: CloudFormation tags, the table, routes in API Gateway's order, intrinsics."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import cfn

FIXTURE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Url: {Type: String, Default: ""}
Conditions:
  HasUrl: !Not [!Equals [!Ref Url, ""]]
Globals:
  Function:
    Environment:
      Variables:
        TABLE: !Ref Table
        STAGE: !Ref Stage
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            AuthorizationScopes: [default/scope]
            JwtConfiguration:
              issuer: !Sub "https://issuer/${Pool}"
              audience: [!Ref Client]
  Sweep:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/sweep/
      Handler: app.handler
      Environment: {Variables: {ARN: !GetAtt Queue.Arn, NAME: !Sub "${AWS::StackName}-x-${Stage}"}}
      Events:
        Every15:
          Type: Schedule
          Properties: {Schedule: rate(15 minutes)}
        Off:
          Type: Schedule
          Properties: {Schedule: rate(1 day), Enabled: false}
        Any:
          Type: HttpApi
          Properties: {Path: "/{proxy+}", Method: ANY}
        Exact:
          Type: HttpApi
          Properties: {Path: "/c/{token}", Method: GET, Auth: {Authorizer: NONE}}
        Scoped:
          Type: HttpApi
          Properties: {Path: /members/me, Method: GET, Auth: {Authorizer: Jwt, AuthorizationScopes: [a/b]}}
"""


@pytest.fixture
def tpl(tmp_path: Path) -> dict:
    path = tmp_path / "template.yaml"
    path.write_text(FIXTURE)
    return cfn.load_template(path)


def test_short_form_tags_become_long_form(tpl: dict) -> None:
    env = tpl["Resources"]["Sweep"]["Properties"]["Environment"]["Variables"]
    assert env["ARN"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert tpl["Conditions"]["HasUrl"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "Url"}, ""]}]}


def test_create_table_kwargs_come_from_the_template(tpl: dict) -> None:
    kwargs = cfn.create_table_kwargs("t1", tpl)
    assert kwargs["TableName"] == "t1"
    assert kwargs["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert "GlobalSecondaryIndexes" not in kwargs
    assert cfn.ttl_attribute(tpl) == "ttl"


def test_the_real_template_has_one_table_with_the_design_indexes() -> None:
    kwargs = cfn.create_table_kwargs("t")
    indexes = {i["IndexName"] for i in kwargs["GlobalSecondaryIndexes"]}
    assert indexes == {"gsi1", "gsi2", "nudge_due", "sms_due", "group_due", "remind_due", "habit_due", "digest_due"}


def test_routes_are_ordered_most_specific_first_with_their_auth(tpl: dict) -> None:
    routes = cfn.http_routes(tpl)
    assert [r.path for r in routes] == ["/members/me", "/c/{token}", "/{proxy+}"]
    scoped, public, proxy = routes
    assert scoped.scopes == ("a/b",)
    assert public.authorizer is None
    assert public.scopes is None
    assert proxy.authorizer == "Jwt"
    assert proxy.scopes == ("default/scope",)


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/c/abc", "GET", {"token": "abc"}),
        ("/c/abc", "POST", None),
        ("/c/abc/def", "GET", None),
    ],
)
def test_route_matching(tpl: dict, path: str, method: str, expected: dict | None) -> None:
    route = next(r for r in cfn.http_routes(tpl) if r.path == "/c/{token}")
    assert route.match(method, path) == expected


def test_greedy_route_matches_any_depth_and_method(tpl: dict) -> None:
    route = next(r for r in cfn.http_routes(tpl) if r.path == "/{proxy+}")
    assert route.match("PATCH", "/pacts/1/check-ins") == {"proxy": "pacts/1/check-ins"}


def test_a_decoded_newline_in_the_path_is_still_routed(tpl: dict) -> None:
    # Found by the schemathesis run (tests/e2e/test_fuzz.py): /pacts/%0A/resume got the gateway's JSON 404.
    greedy = next(r for r in cfn.http_routes(tpl) if r.path == "/{proxy+}")
    assert greedy.match("POST", "/pacts/\n1/resume") == {"proxy": "pacts/\n1/resume"}
    token = next(r for r in cfn.http_routes(tpl) if r.path == "/c/{token}")
    assert token.match("GET", "/c/a\nb") == {"token": "a\nb"}


def test_schedules_skip_disabled_ones(tpl: dict) -> None:
    assert [(s.function, s.name, s.expression) for s in cfn.schedules(tpl)] == [("Sweep", "Every15", "rate(15 minutes)")]


def test_functions_merge_globals_environment(tpl: dict, tmp_path: Path) -> None:
    fn = cfn.functions(tpl, root=tmp_path)["Sweep"]
    assert set(fn.environment) == {"TABLE", "STAGE", "ARN", "NAME"}
    assert fn.module_file == tmp_path / "functions/sweep/app.py"
    assert fn.attribute == "handler"


def test_resolver_handles_ref_sub_getatt_and_conditions(tpl: dict) -> None:
    resolver = cfn.Resolver({"Table": "local-table", "Pool": "p1", "Client": "c1"}, tpl)
    env = cfn.functions(tpl)["Sweep"].environment
    assert resolver.resolve(env["TABLE"]) == "local-table"
    assert resolver.resolve(env["STAGE"]) == "dev"
    assert resolver.resolve(env["NAME"]) == "peer-support-local-x-dev"
    assert resolver.resolve(env["ARN"]).endswith(":Queue/Arn")
    assert resolver.condition("HasUrl") is False
    assert cfn.Resolver({"Url": "https://x"}, tpl).condition("HasUrl") is True
    assert resolver.resolve(cfn.jwt_configuration(tpl)) == {"issuer": "https://issuer/p1", "audience": ["c1"]}
