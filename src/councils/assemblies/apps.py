from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.assemblies"
    label = "assemblies"

    def ready(self):
        from councils.record.services import register_recorded

        for recorded in (("assemblies.Council", "council"), ("assemblies.Charter", "charter", "council_id"),
                              ("assemblies.Membership", "membership"), ("assemblies.Office", "office")):
            register_recorded(*recorded)
        from councils.assemblies.exit import Part, register_part

        register_part(Part("assemblies.Council", ("pk",), 0))
        register_part(Part("assemblies.Charter", ("council",), 1))
        register_part(Part("assemblies.Membership", ("council",), 2))
        register_part(Part("assemblies.Office", ("council",), 50))
