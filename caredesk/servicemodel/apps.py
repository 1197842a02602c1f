from django.apps import AppConfig


class ServiceModelConfig(AppConfig):
    name = "caredesk.servicemodel"
    label = "servicemodel"
    verbose_name = "Service model"
