from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.federation"
    label = "federation"
