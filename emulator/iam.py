"""Does a function's template policy allow an AWS call it made? moto does not enforce IAM, so
a missing permission would only show in a real deployment; this checks the calls recorded in
a local run (emulator.faults.FaultPlan.calls) against the function's `Policies` in template.yaml.

Only Allow statements are modelled (the template has no Deny), with the SAM policy templates
the template uses expanded as SAM documents them.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlparse

from emulator import Deployment

# botocore service name -> IAM action prefix, where they differ
_IAM_PREFIX = {"sesv2": "ses"}
# API operations IAM authorizes as another action: SQS's batch calls have no actions of their own.
_IAM_OPERATION = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
}


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        return any(fnmatchcase(action.lower(), a.lower()) for a in self.actions) and any(
            fnmatchcase(resource, r) for r in self.resources
        )


def _sam_template(name: str, params: Mapping[str, Any], arn: str) -> list[Statement]:
    """The SAM policy templates this template uses (aws-sam-translator's policy_templates.json)."""
    if name == "DynamoDBReadPolicy":
        table = f"{arn}:dynamodb:{{region}}:{{account}}:table/{params['TableName']}"
        actions = ("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem")
        return [Statement((*actions, "dynamodb:DescribeTable"), (table, f"{table}/index/*"))]
    if name == "SQSSendMessagePolicy":
        return [
            Statement(("sqs:SendMessage*",), (f"{arn}:sqs:{{region}}:{{account}}:{params['QueueName']}",))
        ]
    if name == "AWSSecretsManagerGetSecretValuePolicy":
        return [Statement(("secretsmanager:GetSecretValue",), (str(params["SecretArn"]),))]
    raise NotImplementedError(f"SAM policy template {name} is not modelled here")


def statements(deployment: Deployment, function_logical_id: str) -> list[Statement]:
    policies = deployment.resolve(deployment.function_properties(function_logical_id).get("Policies", []))
    found: list[Statement] = []
    for policy in policies:
        if not isinstance(policy, dict):
            continue  # a managed policy by name: not used by this template
        if "Statement" in policy:
            for statement in policy["Statement"]:
                if statement.get("Effect") != "Allow":
                    continue
                actions, resources = statement["Action"], statement["Resource"]
                found.append(
                    Statement(
                        tuple(actions if isinstance(actions, list) else [actions]),
                        tuple(resources if isinstance(resources, list) else [resources]),
                    )
                )
            continue
        for name, params in policy.items():
            for statement in _sam_template(name, params, "arn:aws"):
                resources = tuple(
                    r.format(region=deployment.region, account=deployment.account_id)
                    for r in statement.resources
                )
                found.append(Statement(statement.actions, resources))
    return found


def required(
    deployment: Deployment, service: str, operation: str, params: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """(IAM action, resource ARN) pairs a call needs."""
    action = f"{_IAM_PREFIX.get(service, service)}:{_IAM_OPERATION.get((service, operation), operation)}"
    base = f"arn:aws:{_IAM_PREFIX.get(service, service)}:{deployment.region}:{deployment.account_id}"
    if service == "dynamodb" and operation == "TransactWriteItems":
        yield from _transaction_items(base, params)
    elif service == "dynamodb":
        tables = params.get("RequestItems") or {}
        names = list(tables) or [params["TableName"]]
        for name in names:
            index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
            yield action, f"{base}:table/{name}{index}"
    elif service == "sqs":
        yield action, f"{base}:{urlparse(params['QueueUrl']).path.rsplit('/', 1)[-1]}"
    elif service == "sns":
        # SMS and the opt-out check have no resource ARN: IAM evaluates them against "*"
        yield action, params.get("TopicArn", "*")
    elif service == "secretsmanager":
        yield action, params["SecretId"]
    elif service == "sesv2":
        sender = str(params.get("FromEmailAddress", ""))
        yield action, f"{base}:identity/{sender.rpartition('@')[2]}"
        if "ConfigurationSetName" in params:
            yield action, f"{base}:configuration-set/{params['ConfigurationSetName']}"
    else:
        raise NotImplementedError(f"no resource model for {service}")


# A transaction's items are each allowed by their own action's permission (AWS's "Using IAM with
# DynamoDB transactions"): dynamodb:UpdateItem for an Update, ConditionCheckItem for a check.
_TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _transaction_items(base: str, params: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for entry in params.get("TransactItems", []):
        for kind, write in entry.items():
            yield f"dynamodb:{_TRANSACTION_ACTIONS[kind]}", f"{base}:table/{write['TableName']}"


def denied(
    deployment: Deployment, function_logical_id: str, service: str, operation: str, params: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The (action, resource) pairs of the call that no statement of the function allows."""
    allowed = statements(deployment, function_logical_id)
    return [
        (action, resource)
        for action, resource in required(deployment, service, operation, params)
        if not any(statement.allows(action, resource) for statement in allowed)
    ]
