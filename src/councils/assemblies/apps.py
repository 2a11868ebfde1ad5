from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.assemblies"
    label = "assemblies"

    def ready(self):
        from councils.record.services import register_recorded

        for label, prefix in (("assemblies.Council", "council"), ("assemblies.Charter", "charter"),
                              ("assemblies.Membership", "membership"), ("assemblies.Office", "office")):
            register_recorded(label, prefix)
