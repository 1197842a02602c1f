from django.urls import path

from caredesk.status import feeds, public, views

app_name = "status"
urlpatterns = [
    path("", views.index, name="index"),
    path("environments/<str:key>/", views.environment, name="environment"),
    path("incidents/<int:pk>/", views.incident, name="incident"),
    path("history/", views.history, name="history"),
    path("history.atom", feeds.AtomFeed(), name="atom"),
    path("history.rss", feeds.RssFeed(), name="rss"),
    *(
        path(f"api/v2/{name}", views.json_view(name), name=name.removesuffix(".json"))
        for name in public.ENDPOINTS
    ),
]
