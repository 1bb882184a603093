"""The dashboard's users, sessions and shared graph images for the SQL backends, on their
`_read`/`_write`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TypeVar

from . import web_ops
from .ops import Step
from .web_types import User, WebSession

T = TypeVar("T")


class WebAccountsMixin(ABC):
    @abstractmethod
    async def _read(self, step: Step[T]) -> T: ...

    @abstractmethod
    async def _write(self, step: Step[T]) -> T: ...

    async def create_user(self, org_id: str, name: str, password_hash: str, now: int) -> User:
        return await self._write(web_ops.create_user(org_id, name, password_hash, now))

    async def get_user(self, name: str) -> User | None:
        return await self._read(web_ops.get_user(name))

    async def list_users(self, org_id: str) -> list[User]:
        return await self._read(web_ops.list_users(org_id))

    async def set_user_password(self, name: str, password_hash: str) -> None:
        await self._write(web_ops.set_user_password(name, password_hash))

    async def set_user_time_zone(self, name: str, time_zone: str | None) -> None:
        await self._write(web_ops.set_user_time_zone(name, time_zone))

    async def create_session(self, session: WebSession) -> None:
        await self._write(web_ops.create_session(session))

    async def session_user(self, token_digest: str, now: int) -> User | None:
        return await self._read(web_ops.session_user(token_digest, now))

    async def delete_session(self, token_digest: str, now: int) -> None:
        await self._write(web_ops.delete_session(token_digest, now))

    async def put_graph_image(
        self, org_id: str, token_digest: str, png: bytes, expires_at: int, now: int
    ) -> None:
        await self._write(web_ops.put_graph_image(org_id, token_digest, png, expires_at, now))

    async def graph_image(self, token_digest: str, now: int) -> bytes | None:
        return await self._read(web_ops.graph_image(token_digest, now))
