"""Metadata of hosts, services and roles (spec §9): any JSON value per namespace."""

from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, ServerState, State, WriteKey
from sabamon.server.api.errors import BadRequest, NotFoundError, PayloadTooLarge
from sabamon.server.api.models import MetadataListOut, NamespaceOut, Success
from sabamon.server.api.services import require_service
from sabamon.server.api.validation import check_namespace, parse_document
from sabamon.server.store.records import MetadataOwner

router = APIRouter(prefix="/api/v0", tags=["metadata"], responses=ERROR_RESPONSES)

MAX_METADATA_BYTES = 100 * 1024
MAX_NAMESPACES = 50
RETIRED_READ_WINDOW = 7 * 86400

ANY_JSON: dict[str, Any] = {"content": {"application/json": {"schema": {}}}}
PUT_BODY = {"requestBody": {"required": True, **ANY_JSON}}
GET_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The stored JSON value",
        "headers": {"Last-Modified": {"schema": {"type": "string"}}},
        **ANY_JSON,
    }
}


async def host_owner(state: ServerState, org_id: str, host_id: str, writing: bool) -> MetadataOwner:
    """404 for an unknown host; 400 to write a retired one or read it a week after."""
    host = await state.store.get_host(org_id, host_id)
    if host.is_retired and (writing or state.now() - (host.retired_at or 0) > RETIRED_READ_WINDOW):
        raise BadRequest(f"host {host.id!r} is retired")
    return ("host", host.id)


async def host_for_read(host_id: str, key: ReadKey, state: State) -> MetadataOwner:
    return await host_owner(state, key.org_id, host_id, writing=False)


async def host_for_write(host_id: str, key: ReadKey, state: State) -> MetadataOwner:
    return await host_owner(state, key.org_id, host_id, writing=True)


async def service_owner(service: str, key: ReadKey, state: State) -> MetadataOwner:
    await require_service(state, key.org_id, service)
    return ("service", service)


async def role_owner(service: str, role: str, key: ReadKey, state: State) -> MetadataOwner:
    roles = await state.store.list_roles(key.org_id, service)
    if not any(found.name == role for found in roles):
        raise NotFoundError(f"Role {service}:{role} not found.")
    return ("role", f"{service}:{role}")


OwnerDependency = Callable[..., Awaitable[MetadataOwner]]


def add_routes(prefix: str, for_read: OwnerDependency, for_write: OwnerDependency) -> None:
    """The four metadata routes under one owner's path."""
    ReadOwner = Annotated[MetadataOwner, Depends(for_read)]
    WriteOwner = Annotated[MetadataOwner, Depends(for_write)]

    async def list_namespaces(owner: ReadOwner, key: ReadKey, state: State) -> MetadataListOut:
        names = await state.store.list_metadata(key.org_id, owner)
        return MetadataListOut(metadata=[NamespaceOut(namespace=name) for name in names])

    async def get_metadata(
        namespace: str, owner: ReadOwner, key: ReadKey, state: State
    ) -> Response:
        found = await state.store.get_metadata(key.org_id, owner, check_namespace(namespace))
        return Response(
            orjson.dumps(found.value),
            media_type="application/json",
            headers={"Last-Modified": formatdate(found.updated_at, usegmt=True)},
        )

    async def put_metadata(
        namespace: str, request: Request, owner: WriteOwner, key: WriteKey, state: State
    ) -> Success:
        check_namespace(namespace)
        body = await request.body()
        if len(body) > MAX_METADATA_BYTES:
            raise PayloadTooLarge(f"metadata is larger than {MAX_METADATA_BYTES} bytes")
        value = parse_document(body)
        if not await state.store.put_metadata(
            key.org_id, owner, namespace, value, state.now(), MAX_NAMESPACES
        ):
            raise BadRequest(f"namespace: at most {MAX_NAMESPACES} namespaces per owner")
        return Success()

    async def delete_metadata(
        namespace: str, owner: WriteOwner, key: WriteKey, state: State
    ) -> Success:
        await state.store.delete_metadata(key.org_id, owner, check_namespace(namespace))
        return Success()

    item = prefix + "/{namespace}"
    router.add_api_route(prefix, list_namespaces, methods=["GET"])
    router.add_api_route(item, get_metadata, methods=["GET"], responses=GET_RESPONSE)
    router.add_api_route(item, put_metadata, methods=["PUT"], openapi_extra=PUT_BODY)
    router.add_api_route(item, delete_metadata, methods=["DELETE"])


add_routes("/hosts/{host_id}/metadata", host_for_read, host_for_write)
add_routes("/services/{service}/metadata", service_owner, service_owner)
add_routes("/services/{service}/roles/{role}/metadata", role_owner, role_owner)
