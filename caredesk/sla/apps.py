from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "caredesk.sla"
    label = "sla"
    verbose_name = "SLA clocks"
