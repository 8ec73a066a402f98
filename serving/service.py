"""The claimstance HTTP service: `claimstance serve` (or `bentoml serve serving.service:Claimstance`).

The service's three products, each a module of routes (serving/routes/: stance, track, monitor) over one worker
that loads the model once (serving/worker.py), are put together here with what every route shares: the
middlewares, in their order, the OpenAPI document's error answers, and the tracker page. Settings:
serving/settings.py.
"""

from __future__ import annotations

import logging

import bentoml
from starlette.middleware.trustedhost import TrustedHostMiddleware

from serving.access import AccessControl
from serving.admission import LargeBodyGate
from serving.body_limit import BodyPace, BodySizeLimit
from serving.cancellation import CancelOnDisconnect
from serving.headers import SecurityHeaders
from serving.json_only import JsonOnly
from serving.openapi import ContractDocument
from serving.request_ids import RequestIds
from serving.routes import monitor
from serving.routes.monitor import MonitorRoutes
from serving.routes.stance import StanceRoutes
from serving.routes.track import TrackRoutes
from serving.routes.tracker_page import tracker_page
from serving.settings import SETTINGS

log = logging.getLogger("bentoml.claimstance")

TIMEOUT_MARGIN_S = 5.0
"""BentoML's own timeout comes this long after the service's deadline, which cancels the work and answers 503:
BentoML's answers 504."""
LARGE_BODY_ROUTES = ("/track", "/predict_batch", "/documents/ingest", "/claims/register")
"""Routes whose bodies run to megabytes: at most `max_large_bodies` of them at once (serving/admission.py)."""
KEYS = SETTINGS.key_ring
"""Read once: a key file is read when the service starts, not at each request."""
ACCESS_ERRORS = {
    "401": "An API key is needed (`Authorization: Bearer <key>`), or the one sent is not this service's.",
    "403": "The key's scope is too low for the route: `detail` names the scope needed.",
}


@bentoml.service(
    name="claimstance",
    workers=SETTINGS.workers,
    traffic={"timeout": SETTINGS.request_timeout_s + TIMEOUT_MARGIN_S, "max_concurrency": SETTINGS.max_concurrency},
    logging={"access": {"enabled": SETTINGS.access_log}},
)
class Claimstance(StanceRoutes, TrackRoutes, MonitorRoutes):
    """Stance of texts toward claims (/predict, /predict_batch), one claim across many documents (/track and the
    /tracker/ page), and the claim monitor (/claims/*, /documents/*, /audit/list)."""

    def __init__(self) -> None:
        super().__init__()
        if SETTINGS.listens_beyond_this_machine and not KEYS:
            log.warning(
                "listening on %s with no API keys: anyone who can reach the port can change the watched claims "
                "(set CLAIMSTANCE_API_KEYS_FILE; docs/operations.md)",
                SETTINGS.host,
            )


BODY_ROUTES = [api.route for api in Claimstance.apis.values()]
MONITOR_ROUTES = [route for route in BODY_ROUTES if route.startswith(("/claims/", "/documents/", "/audit/"))]
SMALL_ROUTES = [route for route in MONITOR_ROUTES if route not in LARGE_BODY_ROUTES]
ROUTE_ERRORS = {
    route: ACCESS_ERRORS
    | (monitor.MONITOR_OFF if route in MONITOR_ROUTES else {})
    | monitor.ROUTE_ERRORS.get(route, {})
    for route in BODY_ROUTES
}
# Outermost first: every answer gets the security headers and a request id; a request for another host is refused;
# a key is checked; a body that is not JSON, or a large one past the worker's `max_large_bodies`, is refused before a
# byte of it is read; then the size limits and the pace; then cancellation on disconnect.
Claimstance.add_asgi_middleware(SecurityHeaders, page_prefix="/tracker")
Claimstance.add_asgi_middleware(RequestIds)
Claimstance.add_asgi_middleware(TrustedHostMiddleware, allowed_hosts=SETTINGS.allowed_hosts, www_redirect=False)
Claimstance.add_asgi_middleware(AccessControl, keys=KEYS, route_levels=monitor.ROUTE_LEVELS)
Claimstance.add_asgi_middleware(JsonOnly, body_routes=BODY_ROUTES)
Claimstance.add_asgi_middleware(
    LargeBodyGate,
    routes=LARGE_BODY_ROUTES,
    max_at_once=SETTINGS.max_large_bodies,
    drain_bytes=SETTINGS.max_track_body_bytes,
    drain_s=SETTINGS.refused_body_drain_s,
)
Claimstance.add_asgi_middleware(
    BodySizeLimit,
    max_bytes=SETTINGS.max_body_bytes,
    route_limits={
        "/track": SETTINGS.max_track_body_bytes,
        "/documents/ingest": SETTINGS.max_track_body_bytes,
        "/predict": SETTINGS.pair_body_bytes,
        **dict.fromkeys(SMALL_ROUTES, SETTINGS.small_body_bytes),
    },
    body_routes=BODY_ROUTES,
    pace=BodyPace(SETTINGS.min_body_bytes_per_s, SETTINGS.body_grace_s),
    drain_s=SETTINGS.refused_body_drain_s,
)
Claimstance.add_asgi_middleware(CancelOnDisconnect, deadline_seconds=SETTINGS.request_timeout_s)
Claimstance.add_asgi_middleware(
    ContractDocument, service=Claimstance, route_errors=ROUTE_ERRORS, deprecated=monitor.DEPRECATED_ROUTES
)
Claimstance.mount_asgi_app(tracker_page(), path="/tracker")
