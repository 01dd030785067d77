"""Database rows (SQLAlchemy 2.0 typed models); the schema ships as Alembic revisions."""

from .audit import AuditLog
from .base import Base
from .catalogue import (
    Bundle,
    BundleMaterial,
    BundleMatter,
    Department,
    FormField,
    Material,
    MaterialMatter,
    Matter,
)
from .hall import Allocation, Hall, Window
from .service import (
    Application,
    ApplicationCounter,
    ApplicationStep,
    Evaluation,
    Followup,
    FollowupStep,
    HallServiceSetting,
    Outbox,
)
from .staff import Device, Staff
from .ticket import Appointment, Ticket, TicketCounter, TicketEvent

__all__ = [
    "Allocation",
    "Application",
    "ApplicationCounter",
    "ApplicationStep",
    "Appointment",
    "AuditLog",
    "Base",
    "Bundle",
    "BundleMaterial",
    "BundleMatter",
    "Department",
    "Device",
    "Evaluation",
    "Followup",
    "FollowupStep",
    "FormField",
    "Hall",
    "HallServiceSetting",
    "Material",
    "MaterialMatter",
    "Matter",
    "Outbox",
    "Staff",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "Window",
]
