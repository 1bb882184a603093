"""Sign-in throttling: guesses from one address lock that address out with a growing
delay, while the right user signs in from another address."""

from __future__ import annotations

import logging

import httpx
import pytest
from dashboard_server import ADMIN_PASSWORD, Dashboard, sign_in

from sabamon.server.web.throttle import SignInThrottle


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_delay_grows_and_a_success_clears_it(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    throttle = SignInThrottle(clock, per_account=3, per_address=100)
    for _ in range(2):
        throttle.failed("admin", "10.0.0.1")
    assert throttle.wait("admin", "10.0.0.1") == 0
    with caplog.at_level(logging.WARNING):
        throttle.failed("admin", "10.0.0.1")
    assert throttle.wait("admin", "10.0.0.1") == 5
    assert "event=sign_in_locked scope=account user='admin' client=10.0.0.1" in caplog.text
    clock.now += 5
    throttle.failed("admin", "10.0.0.1")
    assert throttle.wait("admin", "10.0.0.1") == 10
    assert throttle.wait("admin", "10.0.0.2") == 0  # the account itself is not locked
    throttle.succeeded("admin", "10.0.0.1")
    assert throttle.wait("admin", "10.0.0.1") == 0
    clock.now += 901
    throttle.failed("admin", "10.0.0.3")
    assert throttle.wait("admin", "10.0.0.3") == 0  # old failures are forgotten


def test_one_address_guessing_many_accounts_is_locked() -> None:
    throttle = SignInThrottle(Clock(), per_account=100, per_address=4)
    for index in range(4):
        throttle.failed(f"user{index}", "10.0.0.9")
    assert throttle.wait("someone", "10.0.0.9") == 5


def client_from(dashboard: Dashboard, address: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=dashboard.url, transport=transport)


def test_guesses_lock_their_address_and_the_right_user_signs_in_elsewhere(
    dashboard: Dashboard,
) -> None:
    with client_from(dashboard, "127.0.0.7") as guesser:
        for index in range(5):
            assert sign_in(guesser, "admin", f"guess {index}").status_code == 401
        locked = sign_in(guesser, "admin", ADMIN_PASSWORD)
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 5
        assert "Too many failed sign-ins" in locked.text
    with client_from(dashboard, "127.0.0.8") as owner:
        assert sign_in(owner, "admin", ADMIN_PASSWORD).status_code == 303
