"""schemathesis against /api/v1/openapi.json: no 5xx, and every response matches its own schema.

Every operation is fuzzed anonymously (mostly refusals, which must be documented) and with a
manager's token (so the handlers run on generated input). The schema is loaded from the app under
test; the cases are generated per operation with hypothesis.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def fuzz(app, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        @given(case=operation.as_strategy())
        @SETTINGS
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as e:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {e}")
    return failures


def test_anonymous_calls_conform(app):
    failures = fuzz(app, {})
    assert not failures, "\n\n".join(failures)


def test_manager_calls_conform(app, login):
    failures = fuzz(app, login("manager"))
    assert not failures, "\n\n".join(failures)
