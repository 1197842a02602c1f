from django.urls import path

from caredesk.desk import coverage, ticket, tokens, views
from caredesk.reports.views import sla_report

app_name = "desk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.new_case, name="new"),
    path("reports/", sla_report, name="reports"),
    path("presence/", coverage.set_my_presence, name="presence"),
    path("coverage/", coverage.coverage_panel, name="coverage"),
    path("notifications/", views.notifications, name="notifications"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/new", tokens.create, name="new-token"),
    path("tokens/<int:token_id>/revoke", tokens.revoke, name="revoke-token"),
    path("tickets/<str:number>/", ticket.detail, name="ticket"),
    path("tickets/<str:number>/<slug:action>", ticket.act, name="act"),
]
