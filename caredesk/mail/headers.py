"""Safe values for the headers of the mail we send.

We do not lean on the interpreter's own header-injection checks (they changed between
releases): every subject, display name and address we put in a header is checked here,
and a value with a line break or any other control character is refused with a clear error.
"""

from __future__ import annotations

import re
from email.headerregistry import Address

from caredesk.core.errors import InvalidInput

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators that some
# mail software turns into line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A plain addr-spec: no display name, quotes, brackets, commas or spaces (RFC 5321 dot-atoms).
_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
MAX_HEADER = 900


def header_value(value: str, field: str) -> str:
    """A header value with no line break or control character, or InvalidInput."""
    if _CONTROL.search(value):
        raise InvalidInput(
            f"The {field} contains a line break or control character; it cannot go in an"
            " email header.",
            field=field,
        )
    if len(value) > MAX_HEADER:
        raise InvalidInput(f"The {field} is too long for an email header.", field=field)
    return value


def address(value: str, field: str) -> str:
    """A bare email address (local@domain), checked; InvalidInput otherwise."""
    header_value(value, field)
    if len(value) > 254 or not _ADDRESS.match(value):
        raise InvalidInput(f"{value!r} is not a valid email address.", field=field)
    return value


def mailbox(name: str, email: str, field: str) -> str:
    """ "Name <address>", both parts checked, the name quoted as needed and left readable:
    the desk shows it as it is, and Django encodes it (RFC 2047) when the mail is sent."""
    return str(Address(display_name=header_value(name, field), addr_spec=address(email, field)))


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()
