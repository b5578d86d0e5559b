"""PKGCLOUD_GATEWAY_PROCESSES: auto (one per core, as nginx's worker_processes auto) by
default; a number keeps working; anything else is refused at start."""

from __future__ import annotations

import os

import pytest
from pkgcloud_servicekit.settings import Settings
from pydantic import ValidationError


def cores() -> int:
    return len(os.sched_getaffinity(0))


def test_auto_is_the_default_and_means_one_per_core(monkeypatch):
    monkeypatch.delenv("PKGCLOUD_GATEWAY_PROCESSES", raising=False)
    assert Settings().gateway_processes == "auto"
    assert Settings().gateway_process_count() == cores()
    monkeypatch.setenv("PKGCLOUD_GATEWAY_PROCESSES", "auto")
    assert Settings().gateway_process_count() == cores()


@pytest.mark.parametrize("value", ["1", "3", "64"])
def test_a_number_is_taken_as_given(monkeypatch, value):
    monkeypatch.setenv("PKGCLOUD_GATEWAY_PROCESSES", value)
    assert Settings().gateway_processes == int(value)
    assert Settings().gateway_process_count() == int(value)


@pytest.mark.parametrize("value", ["0", "65", "-1", "two", "Auto-ish"])
def test_other_values_are_refused(monkeypatch, value):
    monkeypatch.setenv("PKGCLOUD_GATEWAY_PROCESSES", value)
    with pytest.raises(ValidationError):
        Settings()
