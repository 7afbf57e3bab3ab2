"""schemathesis against the live WSGI app: generated requests from the OpenAPI description, a
bounded number of examples per operation; no 5xx, and every answer conforms to the description."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import settings_for
from tests.hostapp import main as host_main


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schemathesis")
    app = host_main({"here": str(tmp)}, **settings_for(tmp, **{"jobs.max_upload_size": "1MB"}))
    return schemathesis.openapi.from_wsgi("/jobs/openapi.json", app)


def test_api_conforms(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            # an upload valid by the schema may still be refused for its content (415, 422): that is
            # the contract, so only the "valid data must be accepted" check is left out
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
