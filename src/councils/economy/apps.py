from django.apps import AppConfig


class EconomyConfig(AppConfig):
    name = "councils.economy"
    label = "economy"
    verbose_name = "Economy: products, capabilities, needs and plans"
