from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.web"
    label = "web"
