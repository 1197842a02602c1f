from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "caredesk.status"
    label = "status"
    verbose_name = "Status page"
