"""The desk's status editor, mounted at /desk/status/ (names: desk:status:…)."""

from django.urls import path

from caredesk.status import desk_links, desk_maintenance, desk_views

app_name = "status"
urlpatterns = [
    path("", desk_views.index, name="index"),
    path("components/<int:pk>/", desk_views.set_component, name="component"),
    path("incidents/new/", desk_views.new_incident, name="new-incident"),
    path("maintenance/new/", desk_maintenance.new_maintenance, name="new-maintenance"),
    path("incidents/<int:pk>/", desk_views.incident, name="incident"),
    path("incidents/<int:pk>/updates/", desk_views.post_update, name="update"),
    path("incidents/<int:pk>/link/", desk_links.link, name="link"),
    path("incidents/<int:pk>/unlink/<str:number>/", desk_links.unlink, name="unlink"),
    path("tickets/<str:number>/link/", desk_links.link_from_ticket, name="link-ticket"),
    path("incidents/<int:pk>/resolve-linked/", desk_links.resolve_linked, name="resolve-linked"),
]
