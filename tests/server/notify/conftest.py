"""The fixtures of the alert tests: the store on both backends, a certificate."""

from __future__ import annotations

from tests.server.alerts.conftest import certificate, org_id, store

__all__ = ["certificate", "org_id", "store"]
