"""One source of truth: the table moto creates from template.yaml is the table the PynamoDB models expect."""

from __future__ import annotations

import os

from infra import cfn
from shared.adapters.models import Item


def _key_schema(entries: list[dict]) -> dict[str, str]:
    return {e["AttributeName"]: e["KeyType"] for e in entries}


def test_models_and_template_agree_on_keys_and_indexes(aws) -> None:
    described = aws["dynamodb"].describe_table(TableName=os.environ["TABLE_NAME"])["Table"]
    model = Item._get_schema()

    assert _key_schema(described["KeySchema"]) == _key_schema(model["key_schema"])
    table_types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
    for attr in model["attribute_definitions"]:
        assert table_types[attr["AttributeName"]] == attr["AttributeType"], attr

    table_indexes = {i["IndexName"]: _key_schema(i["KeySchema"]) for i in described["GlobalSecondaryIndexes"]}
    model_indexes = {i["index_name"]: _key_schema(i["key_schema"]) for i in model["global_secondary_indexes"]}
    assert table_indexes == model_indexes
    indexes = {i["IndexName"] for i in described["GlobalSecondaryIndexes"]}
    assert indexes == {"gsi1", "gsi2", "nudge_due", "sms_due", "group_due", "remind_due", "habit_due", "digest_due"}


def test_table_is_created_from_the_template_with_its_ttl(aws) -> None:
    ttl = aws["dynamodb"].describe_time_to_live(TableName=os.environ["TABLE_NAME"])["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == cfn.ttl_attribute() == Item.expires_at.attr_name


def test_table_properties_the_template_promises() -> None:
    props = cfn.resource(cfn.table_logical_id())["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
