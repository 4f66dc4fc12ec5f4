"""Validate sandbox answers against the banks' own OpenAPI documents.

The specs live in the shared/ folder beside the repository (read-only). Responses are validated
against the schema each spec declares for (path, method, status), so the
sandbox cannot drift from what the banks publish.
"""

import functools
import json
from pathlib import Path

import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4


def _find_specs() -> Path:
    """shared/specs beside the repository (as CI and developers have it),
    or where BANKKOPPELING_SPECS points. Never skipped: without the specs
    the sandbox could drift unnoticed."""
    import os

    repo = Path(__file__).resolve().parents[2]
    for candidate in (os.environ.get("BANKKOPPELING_SPECS"), repo.parent / "shared" / "specs", "/work/shared/specs"):
        if candidate and (Path(candidate) / "ing" / "Account-Information-API.json").exists():
            return Path(candidate)
    raise FileNotFoundError("The banks' OpenAPI specs (shared/specs beside the repository) are missing; "
                            "set BANKKOPPELING_SPECS to their folder.")


SPECS = _find_specs()
SPEC_FILES = {
    "ing-ais": SPECS / "ing" / "Account-Information-API.json",
    "ing-oauth": SPECS / "ing" / "OAuth-2.0-API.json",
    "abnamro-ais": SPECS / "abnamro" / "account-information-v1.yaml",
    "ing-pis": SPECS / "ing" / "Payment-Initiation-API.json",
    "abnamro-pis": SPECS / "abnamro" / "sepa-payment-v1.yaml",
    # Knab, Triodos and de Volksbank (setup/bank_sandbox/nextgenpsd2.py).
    "berlingroup": SPECS / "berlingroup" / "psd2-api-1.3.12-2022-07-01.json",
    "volksbank-ais": SPECS / "volksbank" / "volksbank-group-account-information-services-v1-1.json",
    "volksbank-consent": SPECS / "volksbank" / "volksbank-group-bank-consent-services-v1.json",
    "volksbank-pis": SPECS / "volksbank" / "volksbank-group-payment-initiation-services-v1.json",
    "volksbank-pis-status": SPECS / "volksbank" / "volksbank-group-payment-status-services-v1-1.json",
    # bunq's own OpenAPI file; its schemas describe the objects inside the
    # {"Response": [...]} envelope (see test_bunq.py).
    "bunq": SPECS / "bunq" / "bunq-api-openapi.json",
}
# Deviations the sandbox makes on purpose, each with its reason.
OVERRIDES = {
    # The spec types `valid` as string but its own example (1554379039) and the
    # protocol doc give epoch seconds as a number: allow both.
    ("abnamro-ais", "consentInfoResponse", "valid"): {"type": None, "anyOf": [{"type": "string"}, {"type": "integer"}]},
    # Same field, same reason, in the payment spec.
    ("abnamro-pis", "consentInfoResponse", "valid"): {"type": None, "anyOf": [{"type": "string"}, {"type": "integer"}]},
}


@functools.cache
def spec(name):
    path = SPEC_FILES[name]
    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    for (spec_name, schema_name, prop), replacement in OVERRIDES.items():
        if spec_name == name:
            target = document["components"]["schemas"][schema_name]["properties"][prop]
            target.update(replacement)
            for key in [k for k, v in replacement.items() if v is None]:
                del target[key]
    return document


def _response_schema(name, path, method, status):
    document = spec(name)
    operation = document["paths"][path][method.lower()]
    responses = operation["responses"]
    response = responses.get(str(status))
    if response is None:
        raise LookupError(f"{name} declares no {status} for {method} {path}")
    if "$ref" in response:  # OpenAPI 3 shared responses
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    if "schema" in response:  # Swagger 2.0
        return response["schema"]
    content = response.get("content", {})
    media = content.get("application/json")
    return media["schema"] if media else None


def validate(name, path, method, status, body, schema_ref=None):
    """Raise jsonschema.ValidationError if ``body`` breaks the spec's schema.

    ``schema_ref`` (e.g. "#/components/schemas/Error") validates against a
    named schema when the spec declares nothing for that status.
    """
    schema = {"$ref": schema_ref} if schema_ref else _response_schema(name, path, method, status)
    if schema is None:
        raise LookupError(f"{name} declares no JSON body for {status} {method} {path}")
    uri = f"urn:spec:{name}"
    resource = Resource.from_contents(spec(name), default_specification=DRAFT4)
    registry = Registry().with_resource(uri, resource)
    if "$ref" in schema:
        schema = {"$ref": uri + schema["$ref"]}
    validator = OAS30Validator(schema, registry=registry, format_checker=oas30_format_checker)
    validator.validate(body)
    return True
