"""Who sees which contacts, agents and organizations: the one place that queries them for a
user (the rule itself is caredesk.core.access)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from caredesk.core.access import access_for, is_agent, may_see_anything
from caredesk.people.models import Organization, OrganizationDomain, User
from caredesk.servicemodel.choices import AGENT_ROLES, Role


@access_for("people.User")
def visible_contacts(user: User | None) -> QuerySet[User]:
    """Customer contacts: agents see all; a contact sees themselves, and their colleagues
    when the organization shares its tickets."""
    contacts = User.objects.filter(role=Role.CUSTOMER)
    if not may_see_anything(user):
        return contacts.none()
    assert user is not None
    if user.is_agent:
        return contacts
    mine = Q(pk=user.pk)
    org = user.organization
    if org is not None and org.shares_tickets:
        mine |= Q(organization=org)
    return contacts.filter(mine)


def visible_agents(user: User | None) -> QuerySet[User]:
    """Agents, for assigning and filtering: every signed-in user may name one (customers see
    the agents who answer them), nobody else."""
    agents = User.objects.filter(role__in=AGENT_ROLES)
    return agents if may_see_anything(user) else agents.none()


@access_for("people.Organization")
def visible_organizations(user: User | None) -> QuerySet[Organization]:
    """Agents see every organization; a contact sees their own."""
    if is_agent(user):
        return Organization.objects.all()
    if not may_see_anything(user) or user is None or user.organization_id is None:
        return Organization.objects.none()
    return Organization.objects.filter(pk=user.organization_id)


@access_for("people.OrganizationDomain")
def visible_domains(user: User | None) -> QuerySet[OrganizationDomain]:
    return OrganizationDomain.objects.filter(organization__in=visible_organizations(user))
