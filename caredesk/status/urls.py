from django.urls import path

from caredesk.status import feeds, public, subscription_views, views

app_name = "status"
urlpatterns = [
    path("", views.index, name="index"),
    path("environments/<str:key>/", views.environment, name="environment"),
    path("incidents/<int:pk>/", views.incident, name="incident"),
    path("history/", views.history, name="history"),
    path("subscribe/", subscription_views.subscribe, name="subscribe"),
    path("subscriptions/confirm/<str:signed>/", subscription_views.confirm, name="confirm"),
    path("subscriptions/<str:signed>/", subscription_views.manage, name="manage"),
    path(
        "subscriptions/<str:signed>/unsubscribe/",
        subscription_views.unsubscribe,
        name="unsubscribe",
    ),
    path("history.atom", feeds.AtomFeed(), name="atom"),
    path("history.rss", feeds.RssFeed(), name="rss"),
    *(
        path(f"api/v2/{name}", views.json_view(name), name=name.removesuffix(".json"))
        for name in public.ENDPOINTS
    ),
]
