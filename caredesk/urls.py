from django.contrib import admin
from django.urls import include, path

from caredesk.api.api import api
from caredesk.core import views as core
from caredesk.servicemodel import views as servicemodel

urlpatterns = [
    path(
        "admin/service-model/",
        admin.site.admin_view(servicemodel.summary),
        name="servicemodel-summary",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", core.healthz),
    path("readyz", core.readyz),
    path("metrics", core.metrics),
    path("desk/", include("caredesk.desk.urls")),
    path("status/", include("caredesk.status.urls")),
    path("", include("caredesk.portal.urls")),
]
