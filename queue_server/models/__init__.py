"""Database rows (SQLAlchemy 2.0 typed models); the schema ships as Alembic revisions."""

from .advice import AllocationAdvice
from .assist import AssistRequest, AssistStep
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
    HallDay,
    HallServiceSetting,
    Outbox,
    SurgeThreshold,
)
from .staff import Device, Staff
from .ticket import Appointment, Ticket, TicketCounter, TicketEvent

__all__ = [
    "Allocation",
    "AllocationAdvice",
    "Application",
    "ApplicationCounter",
    "ApplicationStep",
    "Appointment",
    "AssistRequest",
    "AssistStep",
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
    "HallDay",
    "HallServiceSetting",
    "Material",
    "MaterialMatter",
    "Matter",
    "Outbox",
    "Staff",
    "SurgeThreshold",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "Window",
]
