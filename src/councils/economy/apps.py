from django.apps import AppConfig


class EconomyConfig(AppConfig):
    name = "councils.economy"
    label = "economy"
    verbose_name = "Economy: products, capabilities, needs and plans"

    def ready(self):
        from councils.economy import kinds
        from councils.record.services import register_recorded

        kinds.register()
        for recorded in (("economy.Product", "product"), ("economy.Capability", "capability"),
                              ("economy.WorkingHours", "working_hours", "council_id"), ("economy.DraftNeed", "draft_need"),
                              ("economy.Need", "need"), ("economy.PlanPeriod", "plan_period"),
                              ("economy.PlanningRound", "planning_round"), ("economy.PlanningMode", "planning_mode"),
                              ("economy.HandProposal", "hand_proposal"), ("economy.PlanPart", "plan_part")):
            register_recorded(*recorded)
        from councils.assemblies.exit import Part, register_part

        # A moving council's economy (its capabilities, working hours, needs and plan parts) refers to its
        # federation's catalogue and plan periods: carried in its file and record, not rebuilt as rows elsewhere.
        for order, label in enumerate(("economy.Capability", "economy.WorkingHours", "economy.DraftNeed", "economy.Need",
                                       "economy.PlanningMode", "economy.HandProposal", "economy.PlanPart")):
            register_part(Part(label, ("council",), 70 + order, live=False))
