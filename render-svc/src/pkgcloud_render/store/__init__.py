"""render-svc's metadata: applied events and per-owner status."""

from __future__ import annotations

from .interfaces import AppliedEvent, OwnerStatus, RenderStore

__all__ = ["AppliedEvent", "OwnerStatus", "RenderStore"]
