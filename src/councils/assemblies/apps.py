from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.assemblies"
    label = "assemblies"

    def ready(self):
        from councils.record.services import register_recorded

        for recorded in (("assemblies.Council", "council"), ("assemblies.Charter", "charter", "council_id"),
                              ("assemblies.Membership", "membership"), ("assemblies.Office", "office")):
            register_recorded(*recorded)
