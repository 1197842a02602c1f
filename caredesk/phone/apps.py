from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "caredesk.phone"
    label = "phone"
    verbose_name = "Phone channel"
