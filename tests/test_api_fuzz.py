"""Schemathesis fuzzing of the OpenAPI schema against the live test server: never a 5xx,
and every response matches what the schema documents.

The schema is taken from an app that has loaded nothing (the schema does not depend on the
index), so it exists at collection time; schemathesis's lazy `from_fixture` loader does not
work with this pytest (it sets the removed `Node._nodeid`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import clean_settings
from hypothesis import HealthCheck, settings

from rag.api import create_app

# Per operation and phase, the same cases every run: seconds, and no flaky CI.
# FUZZ_EXAMPLES=500 for a deeper run with fresh random cases.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ
CASES: dict[str, int] = {}


# Adding and removing documents would change the session's shared corpus under the other
# tests: test_api.py tries them with exact cases on a private one.
schema = schemathesis.openapi.from_dict(
    create_app(clean_settings(Path("docs"), Path("index"))).openapi()).exclude(
        path_regex="^/documents", method=["POST", "DELETE"])


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=DERANDOMIZE,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_responses(case: Any, api_url: str) -> None:
    response = case.call(base_url=api_url, timeout=60)
    CASES[case.operation.label] = CASES.get(case.operation.label, 0) + 1
    assert response.status_code < 500, (case.operation.label, case.body, response.text[:300])
    case.validate_response(response)


def test_fuzzing_reached_every_operation(request: pytest.FixtureRequest) -> None:
    fuzz = test_no_server_errors_and_documented_responses.__name__
    if not any(getattr(item, "originalname", "") == fuzz for item in request.session.items):
        pytest.skip("the fuzzing test was deselected")
    assert len(CASES) >= 10, CASES
    print(f"\nfuzz cases: {sum(CASES.values())} {CASES}")
