"""Which webhook URLs may be called, and the settings that decide it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.settings import Settings
from service.webhooks.urls import UnsafeUrl, check_url

REFUSED = [
    "http://127.0.0.1:8080/hook",
    "https://localhost/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://172.16.5.4/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[fe80::1]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://0.0.0.0/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, production=False, allow_private=False)
    check_url(url.replace("https://", "http://"), production=False, allow_private=True)


def test_production_calls_https_only() -> None:
    with pytest.raises(UnsafeUrl, match="https"):
        check_url("http://8.8.8.8/hook", production=True, allow_private=False)
    check_url("https://8.8.8.8/hook", production=True, allow_private=False)
    check_url("http://8.8.8.8/hook", production=False, allow_private=False)
    for odd in ("ftp://8.8.8.8/x", "https:///nohost", "https://user:pw@8.8.8.8/x"):
        with pytest.raises(UnsafeUrl):
            check_url(odd, production=False, allow_private=True)


def test_private_targets_are_allowed_by_default_only_in_dev_and_test() -> None:
    secret = "s" * 40
    assert Settings(env="dev").allow_private_webhooks
    assert Settings(env="test", jwt_secret=secret).allow_private_webhooks
    assert not Settings(env="production", jwt_secret=secret).allow_private_webhooks
    assert Settings(env="production", jwt_secret=secret, webhook_allow_private=True).allow_private_webhooks


def test_the_retry_schedule_is_iso_8601_durations() -> None:
    assert Settings().retry_schedule == [
        timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
        timedelta(hours=2), timedelta(hours=5), timedelta(hours=10),
    ]  # fmt: skip
    assert Settings(webhook_retry_schedule="PT1S, PT2S").retry_schedule == [timedelta(seconds=1), timedelta(seconds=2)]
    with pytest.raises(ValueError, match="webhook_retry_schedule"):
        Settings(webhook_retry_schedule="soon")
