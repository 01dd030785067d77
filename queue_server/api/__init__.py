"""The HTTP API under /api/v1 (DESIGN.md 'HTTP API')."""

from __future__ import annotations

from apiflask import APIBlueprint

from . import (
    admin,
    advice,
    applications,
    appointments,
    assist,
    auth_api,
    evaluations,
    halls,
    identify,
    ratingpad,
    reports,
    settings,
    tickets,
    windows,
)

PREFIX = "/api/v1"


def blueprints() -> list[APIBlueprint]:
    return [halls.bp, tickets.bp, windows.bp, auth_api.bp, admin.bp, identify.bp, evaluations.bp,
            applications.bp, reports.bp, ratingpad.bp, appointments.bp, assist.bp,
            settings.bp, advice.bp]
