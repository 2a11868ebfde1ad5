from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.record"
    label = "record"
    verbose_name = "public record"
