"""What connexion leaves in the request's scope, read back through solo.http.scope while a
real request passes Solo's stack: the canary for connexion's scope layout."""

from connexion.middleware import MiddlewarePosition

from solo.http import scope as connexion_scope
from solo.web.app import create_app
from tests.support.clients import SpecCheckedClient


class _Spy:
    """Records what Solo's middleware reads, where Solo's middleware reads it."""

    seen: list[tuple[str | None, str | None, str | None]]

    def __init__(self, app, seen) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.seen.append(
                (
                    connexion_scope.operation_id(scope),
                    connexion_scope.user(scope),
                    connexion_scope.path_parameter(scope, "session_id"),
                )
            )
        await self.app(scope, receive, send)


def test_routing_and_security_leave_what_solo_reads(settings, deps):
    seen: list = []
    app = create_app(settings, deps)
    app.add_middleware(_Spy, position=MiddlewarePosition.BEFORE_VALIDATION, seen=seen)
    client = SpecCheckedClient(app, settings)
    created = client.post("/sessions/", json={"state": {}}, headers=client.auth("олена"))
    session_id = created.json()["id"]
    client.get(f"/sessions/{session_id}/", headers=client.auth("олена"))
    assert seen == [("createSession", "олена", None), ("getSession", "олена", session_id)]
