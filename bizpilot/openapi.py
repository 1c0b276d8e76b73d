"""The OpenAPI schema says exactly what the API does (schemathesis checks it in the suite): every error answer is
documented with the one error body, request bodies allow no property the API would refuse, and the links between
operations (a lead created, then read, corrected, stopped, erased) are declared for stateful testing."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}
STANDARD_ERRORS = {
    "400": "Invalid input: `error.fields` names each bad field",
    "401": "Missing or wrong API key",
    "403": "Not allowed",
    "404": "No such object",
    "429": "Too many requests (per API key), or too many wrong keys from this address: see Retry-After",
}
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"  # no NUL, and something besides whitespace
OPTIONAL_BODY = {"leads_sequence_stop"}  # its only field, the reason, is optional
IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}
LEAD = "$response.body#/id"
LINKS = {
    ("/api/leads/", "post", "202"): {
        "GetLead": ("leads_retrieve", {"lead_id": LEAD}),
        "CorrectIntent": ("leads_correct_intent", {"lead_id": LEAD}),
        "StopSequence": ("leads_sequence_stop", {"lead_id": LEAD}),
        "ExportLead": ("leads_export", {"lead_id": LEAD}),
        "EraseLead": ("leads_erase", {"lead_id": LEAD}),
    },
    ("/api/messages/", "get", "200"): {
        "GetMessage": ("messages_retrieve", {"message_id": "$response.body#/results/0/id"}),
        "ReviewMessage": ("messages_review", {"message_id": "$response.body#/results/0/id"}),
    },
}


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False  # the API refuses unknown fields (StrictSerializer)
            for prop in schema.get("properties", {}).values():
                if prop.get("type") == "string" and "pattern" not in prop and "enum" not in prop:
                    prop["pattern"] = NO_NUL  # text fields refuse the NUL character (it cannot be stored)
    if "LeadCreateInputRequest" in schemas:  # a lead needs a way to answer it: an email address or a phone number
        schemas["LeadCreateInputRequest"]["anyOf"] = [
            {"required": [field], "properties": {field: {"minLength": 1}}} for field in ("email", "phone")
        ]
    if "ReviewEditInputRequest" in schemas:  # an edit gives a new body or subject (or both), neither blank
        for field in ("body", "subject"):
            schemas["ReviewEditInputRequest"]["properties"][field]["pattern"] = NOT_BLANK
        schemas["ReviewEditInputRequest"]["anyOf"] = [{"required": ["body"]}, {"required": ["subject"]}]
    _any_or_null(schemas)
    if "MessageComposeInputRequest" in schemas:  # a message says something; an email has a subject too
        compose = schemas["MessageComposeInputRequest"]
        compose["properties"]["body"]["pattern"] = NOT_BLANK
        compose["oneOf"] = [
            {
                "properties": {"channel": {"enum": ["email"]}, "subject": {"pattern": NOT_BLANK}},
                "required": ["subject"],
            },
            {"properties": {"channel": {"enum": ["sms", "whatsapp"]}}},
        ]
    operation_ids = {op.get("operationId") for ops in result.get("paths", {}).values() for op in ops.values()}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, text in STANDARD_ERRORS.items():
                responses.setdefault(status, {"description": text})
            for status, response in responses.items():
                if status.startswith("4"):
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            body = operation.get("requestBody")
            if body is not None and operation.get("operationId") not in OPTIONAL_BODY:
                body["required"] = True  # the API answers 400 to a POST without its body
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
                    parameter["schema"] = IDEMPOTENCY_KEY
            for link_name, (target, parameters) in LINKS.get((path, method, _success(responses)), {}).items():
                if target in operation_ids:
                    links = responses[_success(responses)].setdefault("links", {})
                    links[link_name] = {"operationId": target, "parameters": parameters}
    return result


def _any_or_null(node: Any) -> None:
    """OpenAPI 3.1: drf-spectacular writes a nullable JSON field as `oneOf: [{}, {"type": "null"}]`, which null
    matches twice (so oneOf refuses it). Any value, null included, is `{}`."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and value.get("oneOf") == [{}, {"type": "null"}]:
                node[key] = {k: v for k, v in value.items() if k != "oneOf"}
            else:
                _any_or_null(value)
    elif isinstance(node, list):
        for item in node:
            _any_or_null(item)


def _success(responses: dict[str, Any]) -> str:
    return next((status for status in responses if status.startswith("2")), "200")
