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
