from django.contrib import admin
from django.urls import include, path

from caredesk.api.api import api
from caredesk.core import views as core

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", core.healthz),
    path("readyz", core.readyz),
    path("desk/", include("caredesk.desk.urls")),
    path("", include("caredesk.portal.urls")),
]
