from django.urls import include, path

from caredesk.desk import bulk, callers, coverage, dashboard, ticket, tokens, views
from caredesk.phone import views as phone
from caredesk.reports.views import sla_report

app_name = "desk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.new_case, name="new"),
    path("new/callers/", callers.callers, name="callers"),
    path("bulk/", bulk.bulk, name="bulk"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("reports/", sla_report, name="reports"),
    path("presence/", coverage.set_my_presence, name="presence"),
    path("coverage/", coverage.coverage_panel, name="coverage"),
    path("notifications/", views.notifications, name="notifications"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/new", tokens.create, name="new-token"),
    path("tokens/<int:token_id>/revoke", tokens.revoke, name="revoke-token"),
    path("phone/", phone.wallboard, name="wallboard"),
    path("phone/popup/", phone.popup, name="call-popup"),
    path("phone/calls/<str:call_id>/attach", phone.attach, name="call-attach"),
    path("phone/calls/<str:call_id>/dismiss", phone.dismiss, name="call-dismiss"),
    path("tickets/<str:number>/", ticket.detail, name="ticket"),
    path("tickets/<str:number>/<slug:action>", ticket.act, name="act"),
    path("status/", include("caredesk.status.desk_urls")),
    path("mail/", include("caredesk.mail.desk_urls")),
]
