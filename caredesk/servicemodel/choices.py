"""Fixed enums: one spelling everywhere (model file, API, CLI, tests)."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    REPRESENTATIVE = "representative", "Representative"
    ENGINEER = "engineer", "Engineer"
    COORDINATOR = "coordinator", "Coordinator"
    EMERGENCY = "emergency", "Emergency Care"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"
    CUSTOMER = "customer", "Customer"


AGENT_ROLES = frozenset(r.value for r in Role if r is not Role.CUSTOMER)
# Roles that belong to a team's working staff (managers and admins may have a team, too).
TEAM_ROLES = frozenset({"representative", "engineer", "coordinator", "emergency"})


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    PORTAL = "portal", "Portal"
    API = "api", "API"


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    ESCALATION = "escalation", "Escalation"


CASE_TYPE = "customer-care"
TECHNICAL_SUPPORT = "technical-support"
PROJECT_COORDINATION = "project-coordination"
EMERGENCY_TEAM = "emergency-care"
