from django.apps import AppConfig


class ServiceModelConfig(AppConfig):
    name = "caredesk.servicemodel"
    label = "servicemodel"
    verbose_name = "Service model"

    def ready(self) -> None:
        # Connects the signals that drop the per-process model cache on every change.
        from caredesk.servicemodel import cache  # noqa: F401
