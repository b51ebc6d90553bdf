"""The REST API under /api/v1: one module of routes per subject, each a thin layer over the
business functions (parse → call → response model); business errors are answered once, in
``rest.errors``."""
from __future__ import annotations

from fastapi import APIRouter

from services.gateway.rest import admin, directory, interactions, queue, sla, task_policies, tasks


def router() -> APIRouter:
    r = APIRouter(prefix="/api/v1")
    for module in (directory, queue, tasks, interactions, admin, sla, task_policies):
        r.include_router(module.r)
    return r
