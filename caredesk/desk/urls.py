from django.urls import path

from caredesk.desk import coverage, ticket, views
from caredesk.phone import views as phone
from caredesk.reports.views import sla_report

app_name = "desk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.new_case, name="new"),
    path("reports/", sla_report, name="reports"),
    path("presence/", coverage.set_my_presence, name="presence"),
    path("coverage/", coverage.coverage_panel, name="coverage"),
    path("notifications/", views.notifications, name="notifications"),
    path("phone/", phone.wallboard, name="wallboard"),
    path("phone/popup/", phone.popup, name="call-popup"),
    path("phone/calls/<str:call_id>/attach", phone.attach, name="call-attach"),
    path("tickets/<str:number>/", ticket.detail, name="ticket"),
    path("tickets/<str:number>/<slug:action>", ticket.act, name="act"),
]
