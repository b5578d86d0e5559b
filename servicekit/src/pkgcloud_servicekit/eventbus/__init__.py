"""Event buses: how domain events travel from registry-svc and auth-svc to their consumers."""

from __future__ import annotations

from ..settings import Settings
from .interfaces import EventBus, Handler

__all__ = ["EventBus", "Handler", "make_event_bus"]


def make_event_bus(settings: Settings) -> EventBus:
    if settings.bus == "rabbitmq":
        from .rabbitmq import RabbitMQEventBus

        return RabbitMQEventBus(
            settings.rabbitmq_url,
            exchange=settings.events_exchange,
            queue_prefix=settings.events_queue_prefix,
            max_attempts=settings.events_max_attempts,
            partitions=settings.events_partitions,
        )
    from .inprocess import InProcessEventBus

    return InProcessEventBus(max_attempts=settings.events_max_attempts)
