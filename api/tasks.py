"""Thin Celery tasks of the API (found by the Celery app's autodiscover)."""

from __future__ import annotations

from celery import shared_task

from .idempotency import idempotent_requests_forget


@shared_task(ignore_result=True, acks_late=True)
def forget_idempotent_requests() -> int:
    """Delete stored answers to Idempotency-Keys past their time (api.idempotency.KEEP_DAYS).
    Running it twice does no harm."""
    return idempotent_requests_forget()
