from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.accounts"
    label = "accounts"
