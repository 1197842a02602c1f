from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "caredesk.desk"
    label = "desk"
