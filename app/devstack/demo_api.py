"""``flowforge demo-api``: the upstream services the examples and built-in templates call.

One process, one ASGI app, five listening ports (from ``FLOWFORGE_DEMO_API_BASE_PORT``,
9001 by default), each port one service:

=======  =========  ==========================================================
port     service    routes
=======  =========  ==========================================================
base+0   inventory  ``POST /reserve``, ``POST /ship/{order}``
base+1   payments   ``POST /charge``, ``POST /refund``
base+2   users      ``GET /users?page=``, ``GET /profiles/{id}``
base+3   hooks      ``POST`` any path (webhook deliveries), ``GET /deliveries``
base+4   payroll    ``POST /payouts``
=======  =========  ==========================================================

Every service also answers ``GET /_demo`` (its switches and the requests it
saw, newest first) and ``PUT /_demo`` (change the switches: ``fail_next``,
``fail_rate``, ``fail_status``, ``delay_ms``), so a user can watch a run fail,
retry and recover. The answers are documented in ``docs/DEMO.md``.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

SERVICES = ("inventory", "payments", "users", "hooks", "payroll")
"""The services in port order: ``inventory`` on the base port, ``payroll`` on base + 4."""

_SEEN = 50
_USERS_PER_PAGE = 5
_PAGES = 3
_PLANS = ("free", "pro", "team")
_NAMES = (
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
    "Margaret", "Dennis", "Radia", "Leslie", "Shafi", "John", "Hedy",
)  # fmt: skip


class Switches(BaseModel):
    """How a service misbehaves, changed with ``PUT /_demo``.

    Attributes:
        fail_next: The next this many requests fail with ``fail_status``.
        fail_rate: Beyond those, each request fails with this probability.
        fail_status: The status of a failed request (503: retried by default).
        delay_ms: Every answer waits this long first.
    """

    fail_next: int = Field(default=0, ge=0, le=1000)
    fail_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    fail_status: int = Field(default=503, ge=400, le=599)
    delay_ms: int = Field(default=0, ge=0, le=60_000)


@dataclass
class Seen:
    """One request a service answered."""

    at: str
    method: str
    path: str
    status: int
    idempotency_key: str | None
    body: Any = None


@dataclass
class Service:
    """One demo service's switches and the requests it saw."""

    name: str
    switches: Switches
    seen: deque[Seen] = field(default_factory=lambda: deque(maxlen=_SEEN))
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)

    def injected_failure(self) -> bool:
        """Whether this request is to fail (and count it if so)."""
        if self.switches.fail_next:
            self.switches.fail_next -= 1
            return True
        return random.random() < self.switches.fail_rate


Handler = Callable[[Service, Request, Any], Awaitable[tuple[int, Any]]]


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:12]


async def _reserve(_service: Service, _request: Request, body: Any) -> tuple[int, Any]:
    order = str(body.get("order", "")) if isinstance(body, dict) else ""
    if not order:
        return 422, {"error": "body.order is required"}
    if order.startswith("oos-"):
        return 409, {"error": f"order {order} is out of stock", "order": order}
    return 200, {"reservation_id": f"rsv_{_digest('reserve', order)}", "order": order}


async def _ship(_service: Service, request: Request, _body: Any) -> tuple[int, Any]:
    order = request.path_params["order"]
    if order.startswith("noship-"):
        return 422, {"error": f"order {order} has no shipping address", "order": order}
    return 200, {"order": order, "tracking": f"TRK{_digest('ship', order).upper()}"}


async def _charge(service: Service, request: Request, body: Any) -> tuple[int, Any]:
    if not isinstance(body, dict) or "order" not in body or "amount" not in body:
        return 422, {"error": "body.order and body.amount are required"}
    try:
        amount = float(body["amount"])
    except (TypeError, ValueError):
        return 422, {"error": "body.amount must be a number"}
    key = request.headers.get("idempotency-key")
    if key and key in service.charges:
        return 200, service.charges[key]  # a retry: the same charge, not a second one
    if amount > 5000:
        return 402, {"error": "card declined: amount over 5000", "order": body["order"]}
    charge = {
        "id": f"ch_{_digest('charge', key or random.random())}",
        "order": str(body["order"]),
        "amount": amount,
        "status": "captured",
    }
    if key:
        service.charges[key] = charge
    return 200, charge


async def _refund(_service: Service, _request: Request, body: Any) -> tuple[int, Any]:
    order = str(body.get("order", "")) if isinstance(body, dict) else ""
    return 200, {"refund_id": f"rf_{_digest('refund', order)}", "order": order}


def _user(number: int) -> dict[str, Any]:
    return {"id": f"u{number}", "name": _NAMES[(number - 1) % len(_NAMES)]}


async def _users(_service: Service, request: Request, _body: Any) -> tuple[int, Any]:
    raw = request.query_params.get("page") or "1"
    if not raw.isdigit() or int(raw) < 1:
        return 400, {"error": f"page must be a whole number from 1, not {raw!r}"}
    page = int(raw)
    first = (page - 1) * _USERS_PER_PAGE + 1
    users = [_user(n) for n in range(first, first + _USERS_PER_PAGE)] if page <= _PAGES else []
    return 200, {"page": page, "users": users, "next_page": page + 1 if page < _PAGES else None}


async def _profile(_service: Service, request: Request, _body: Any) -> tuple[int, Any]:
    user_id = request.path_params["user_id"]
    number = user_id[1:]
    if not (user_id.startswith("u") and number.isdigit()):
        return 404, {"error": f"no user {user_id}"}
    if not 1 <= int(number) <= _USERS_PER_PAGE * _PAGES:
        return 404, {"error": f"no user {user_id}"}
    return 200, {"id": user_id, "plan": _PLANS[int(number) % len(_PLANS)]}


async def _delivery(_service: Service, request: Request, body: Any) -> tuple[int, Any]:
    return 200, {"received": True, "path": request.url.path}


async def _deliveries(service: Service, _request: Request, _body: Any) -> tuple[int, Any]:
    posts = [asdict(seen) for seen in service.seen if seen.method == "POST"]
    return 200, {"deliveries": posts}


async def _payout(_service: Service, _request: Request, body: Any) -> tuple[int, Any]:
    if not isinstance(body, dict) or "employee" not in body or "amount" not in body:
        return 422, {"error": "body.employee and body.amount are required"}
    return 200, {
        "payout_id": f"po_{_digest('payout', body['employee'], body['amount'])}",
        "employee": body["employee"],
        "amount": body["amount"],
        "status": "scheduled",
    }


ROUTES: dict[str, list[tuple[str, str, Handler]]] = {
    "inventory": [("POST", "/reserve", _reserve), ("POST", "/ship/{order}", _ship)],
    "payments": [("POST", "/charge", _charge), ("POST", "/refund", _refund)],
    "users": [("GET", "/users", _users), ("GET", "/profiles/{user_id}", _profile)],
    "hooks": [("GET", "/deliveries", _deliveries), ("POST", "/{path:path}", _delivery)],
    "payroll": [("POST", "/payouts", _payout)],
}


def _endpoint(service: Service, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def answer(request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = await request.json() if raw else None
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if service.switches.delay_ms:
            await asyncio.sleep(service.switches.delay_ms / 1000)
        if service.injected_failure():
            status, payload = (
                service.switches.fail_status,
                {"error": f"{service.name} is failing on purpose (PUT /_demo to change)"},
            )
        else:
            status, payload = await handler(service, request, body)
        service.seen.appendleft(
            Seen(
                at=datetime.now(UTC).isoformat(),
                method=request.method,
                path=request.url.path,
                status=status,
                idempotency_key=request.headers.get("idempotency-key"),
                body=body,
            )
        )
        return JSONResponse(payload, status_code=status)

    return answer


def _control(service: Service) -> Callable[[Request], Awaitable[Response]]:
    async def control(request: Request) -> Response:
        if request.method == "PUT":
            try:
                change = await request.json()
                merged = {**service.switches.model_dump(), **change}
                service.switches = Switches.model_validate(merged)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse(
            {
                "service": service.name,
                "switches": service.switches.model_dump(),
                "seen": [asdict(seen) for seen in service.seen],
            }
        )

    return control


def service_app(service: Service) -> Starlette:
    """The ASGI app of one demo service."""
    routes = [Route("/_demo", _control(service), methods=["GET", "PUT"])]
    routes += [
        Route(path, _endpoint(service, handler), methods=[method])
        for method, path, handler in ROUTES[service.name]
    ]
    return Starlette(routes=routes)


class DemoApi:
    """Every demo service behind one ASGI app, told apart by the port a request came to.

    Args:
        base_port: The inventory service's port; the others follow in :data:`SERVICES` order.
        switches: How every service starts out behaving.
    """

    def __init__(self, base_port: int, switches: Switches | None = None) -> None:
        self.base_port = base_port
        self.services = {
            name: Service(name, (switches or Switches()).model_copy()) for name in SERVICES
        }
        self._apps = {
            base_port + index: service_app(self.services[name])
            for index, name in enumerate(SERVICES)
        }

    def ports(self) -> dict[str, int]:
        """Each service's port."""
        return {name: self.base_port + index for index, name in enumerate(SERVICES)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the service of the port it came to."""
        server = scope.get("server") or ("", 0)
        app = self._apps.get(server[1])
        if app is None:
            await JSONResponse({"error": "no demo service on this port"}, 404)(scope, receive, send)
            return
        await app(scope, receive, send)


def bind(host: str, ports: list[int]) -> list[socket.socket]:
    """Listening sockets on ``ports``.

    Raises:
        OSError: naming the port that is taken.
    """
    sockets: list[socket.socket] = []
    for port in ports:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            sock.close()
            for other in sockets:
                other.close()
            raise OSError(
                exc.errno,
                f"the demo API cannot listen on {host}:{port} ({exc.strerror}): free it, "
                "set FLOWFORGE_DEMO_API_BASE_PORT, or FLOWFORGE_DEMO_API=false",
            ) from None
        sock.listen(128)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def server(api: DemoApi, host: str) -> tuple[uvicorn.Server, list[socket.socket]]:
    """A uvicorn server for ``api`` and the sockets to serve it on (already bound)."""
    sockets = bind(host, list(api.ports().values()))
    config = uvicorn.Config(api, log_level="warning", access_log=False, lifespan="off")
    return uvicorn.Server(config), sockets
