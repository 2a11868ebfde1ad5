from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.assemblies"
    label = "assemblies"
