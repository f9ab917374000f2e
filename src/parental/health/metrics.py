"""``GET /metrics``: the API's Prometheus metrics (docs/operations.md lists them).

Open by default: the figures are counts by route, category and outcome, never an id or a
person. With ``PARENTAL_METRICS_TOKEN`` set, a scrape must send it as a bearer token (a
deployment that cannot keep the path off the public side); with ``PARENTAL_METRICS_ENABLED``
false the path is not served at all. Not in the OpenAPI document: it is for Prometheus, not
for the apps.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from parental.deps import RuntimeDep
from parental.kit.asgi import bearer
from parental.kit.errors import NotFound, Unauthorized
from parental.kit.metrics import CONTENT_TYPE, exposition
from parental.notifications.metrics import backlog_gauges

router = APIRouter()


class MetricsOff(NotFound):
    message = "Metrics are not served here (PARENTAL_METRICS_ENABLED is false)."


class InvalidMetricsToken(Unauthorized):
    message = "Metrics need the bearer token set in PARENTAL_METRICS_TOKEN."


@router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request, runtime: RuntimeDep) -> Response:
    """Prometheus metrics of this API (and of its sibling processes in multi-process mode)."""
    settings = runtime.settings
    if not settings.metrics_enabled:
        raise MetricsOff()
    if settings.metrics_token is not None:
        given = bearer(request.scope) or ""
        expected = settings.metrics_token.get_secret_value()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidMetricsToken()
    await backlog_gauges.refresh(runtime)
    return Response(exposition(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
