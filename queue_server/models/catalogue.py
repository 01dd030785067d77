"""The catalogue: departments, matters (事项), materials, and bundles (一件事) joining them."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Matter(Base):
    """One administrative matter (事项) handled by one department."""

    __tablename__ = "matter"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    legal_days: Mapped[int | None]
    promised_days: Mapped[int | None]
    fee: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[Department] = relationship()


class Material(Base):
    """A material of one bundle's merged list, with the matters that need it (一套材料)."""

    __tablename__ = "material"
    __table_args__ = (UniqueConstraint("bundle_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(20))  # original | copy | electronic
    copies: Mapped[int] = mapped_column(Integer, default=1)
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)  # 免提交
    exempt_note: Mapped[str | None] = mapped_column(String(200))
    tolerated: Mapped[bool] = mapped_column(Boolean, default=False)  # 容缺受理
    promise_allowed: Mapped[bool] = mapped_column(Boolean, default=False)  # 告知承诺
    note: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    matters: Mapped[list[MaterialMatter]] = relationship(cascade="all, delete-orphan")


class MaterialMatter(Base):
    __tablename__ = "material_matter"
    material_id: Mapped[int] = mapped_column(
        ForeignKey("material.id", ondelete="CASCADE"), primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"), primary_key=True)
    matter: Mapped[Matter] = relationship()


class Bundle(Base):
    """一件事: several matters applied for once, at one window, with one form and one material list."""

    __tablename__ = "bundle"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(1), unique=True)
    applicant: Mapped[str] = mapped_column(String(20))  # citizen | enterprise
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    summary: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)  # one condition per line
    legal_days: Mapped[int | None]
    promised_days: Mapped[int | None]
    fees: Mapped[str | None] = mapped_column(String(200))
    service_minutes: Mapped[float] = mapped_column(default=15.0)
    visits_before: Mapped[int | None]
    visits_after: Mapped[int | None]
    materials_before: Mapped[int | None]
    lead_department: Mapped[Department] = relationship()
    matters: Mapped[list[BundleMatter]] = relationship(
        cascade="all, delete-orphan", order_by="BundleMatter.position")
    materials: Mapped[list[Material]] = relationship(
        cascade="all, delete-orphan", order_by="Material.position")
    form_fields: Mapped[list[FormField]] = relationship(
        cascade="all, delete-orphan", order_by="FormField.position")


class BundleMatter(Base):
    __tablename__ = "bundle_matter"
    bundle_id: Mapped[int] = mapped_column(
        ForeignKey("bundle.id", ondelete="CASCADE"), primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    matter: Mapped[Matter] = relationship()


class FormField(Base):
    """A field of the bundle's merged form (一表申请); `identity` names the identity field that fills it."""

    __tablename__ = "form_field"
    __table_args__ = (UniqueConstraint("bundle_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    identity: Mapped[str | None] = mapped_column(String(20))
    options: Mapped[str | None] = mapped_column(Text)  # one option per line
    position: Mapped[int] = mapped_column(Integer, default=0)


BundleMaterial = Material  # the merged material list's row is the bundle's material
