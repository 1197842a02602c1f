"""Attachments, downloaded by whoever may read the message they came with.

Everything a customer sent is untrusted: it is always served as a download, never shown
inline, under a passive content type, in a sandbox, so no file can run script in our
origin (whatever its name or the type its sender claimed).
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest

from caredesk.portal.web import page, ticket_or_404, user_of
from caredesk.tickets.access import visible_messages
from caredesk.tickets.models import Attachment

# Types that browsers only ever display; anything else goes out as octet-stream.
PASSIVE = frozenset(
    {"image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain", "text/csv"}
)


# A streamed file is not an HttpResponse in the stubs, which page() is typed for.
@page(who="customer")  # type: ignore[type-var]
def attachment(request: HttpRequest, number: str, pk: int) -> FileResponse:
    user = user_of(request)
    ticket = ticket_or_404(user, number)
    found = (
        Attachment.objects.filter(pk=pk, message__in=visible_messages(user, ticket))
        .only("file", "filename", "content_type")
        .first()
    )
    if found is None:
        raise Http404("No such attachment.")
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is no longer stored.") from None
    kind = found.content_type if found.content_type in PASSIVE else "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=found.filename, content_type=kind)
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
