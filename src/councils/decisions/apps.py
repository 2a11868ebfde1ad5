from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.decisions"
    label = "decisions"
