"""The demo's people: customer organizations with their contacts, and the desk's staff."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from caredesk.core.demo import catalog
from caredesk.people import services as people
from caredesk.people.models import Organization, User
from caredesk.status.models import Environment


@dataclass
class Cast:
    """Who the stories are about, grouped the way the stories pick them."""

    staff: dict[str, list[User]] = field(default_factory=dict)  # by role
    organizations: list[Organization] = field(default_factory=list)
    contacts: dict[int, list[User]] = field(default_factory=dict)  # by organization id
    environments: dict[int, list[str]] = field(default_factory=dict)  # by organization id

    def first(self, role: str) -> User:
        return self.staff[role][0]


def staff_domain() -> str:
    """The desk's own domain: the model's contact address moved to `.example`."""
    from caredesk.servicemodel.models import ServiceSettings

    email = ServiceSettings.current().email
    name = email.rpartition("@")[2].split(".")[0] if email else ""
    return f"{name or 'caredesk'}.example"


def _email(name: str, domain: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    local = "".join(ch for ch in ascii_name.lower().replace(" ", ".") if ch.isalnum() or ch == ".")
    return f"{local}@{domain}"


def _user(
    email: str,
    password_hash: str,
    *,
    role: str,
    name: str,
    team: str | None = None,
    org: str | None = None,
    phone: str = "",
    extension: str = "",
) -> User:
    # Reuse an account made earlier (say by `caredesk user add`): the demo only adds.
    user = User.objects.filter(email=email).first()
    if user is None:
        user = people.add_user(
            email, role=role, team=team, org=org, name=name, phone=phone, extension=extension
        )
        # One hash for everyone: argon2 takes a tenth of a second per password.
        User.objects.filter(pk=user.pk).update(password=password_hash)
    return user


def make_cast(rng: random.Random, *, contacts_per_org: int) -> Cast:
    """Organizations, contacts and staff, all sharing the demo password."""
    password_hash = make_password(catalog.PASSWORD)
    cast = Cast()
    domain = staff_domain()
    for role, team, name in catalog.STAFF:
        email = f"{role}@{domain}" if role in ("admin", "manager") else _email(name, domain)
        # Whoever answers the phone has an extension the PBX can name in `answeringNumber`.
        lowest = catalog.EXTENSIONS.get(role)
        extension = str(lowest + len(cast.staff.get(role, []))) if lowest else ""
        user = _user(email, password_hash, role=role, team=team, name=name, extension=extension)
        cast.staff.setdefault(role, []).append(user)
    known_envs = set(Environment.objects.values_list("key", flat=True))
    used: set[str] = set()
    for customer in catalog.CUSTOMERS:
        org = people.get_or_create_organization(customer.name, domains=[customer.domain])
        envs = [key for key in customer.environments if key in known_envs]
        org.environments.set(Environment.objects.filter(key__in=envs))
        cast.organizations.append(org)
        cast.environments[org.pk] = envs
        contacts = cast.contacts[org.pk] = []
        for i in range(contacts_per_org):
            while True:
                first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
                email = _email(f"{first} {last}", customer.domain)
                if email not in used:
                    used.add(email)
                    break
            phone = f"+1{customer.area_code}5550{100 + (len(used) * 7 + i) % 100}"
            contacts.append(
                _user(
                    email,
                    password_hash,
                    role="customer",
                    org=org.key,
                    name=f"{first} {last}",
                    phone=phone,
                )
            )
    return cast
