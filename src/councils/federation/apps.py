from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.federation"
    label = "federation"

    def ready(self):
        from councils.assemblies import hooks
        from councils.decisions import kinds as decision_kinds
        from councils.federation import kinds, services, views
        from councils.record.services import register_recorded

        kinds.register()
        hooks.member_leaving.connect(services.on_member_leaving, dispatch_uid="federation.end_delegations")
        hooks.council_moved.connect(services.on_council_moved, dispatch_uid="federation.council_moved")
        hooks.register_founding(hooks.Founding("federation", services.clean_federation_charter,
                                               services.found_federation_charter))
        hooks.register_page_part(views.council_page_part)
        hooks.register_api_facts(services.council_facts)
        decision_kinds.register_page_part(views.proposal_page_part)
        for recorded in (("federation.Affiliation", "affiliation"), ("federation.FederationCharter", "federation_charter", "federation_id"),
                              ("federation.Delegate", "delegate"), ("federation.FederationBallot", "federation_ballot"),
                              ("federation.RecallPetition", "recall_petition"), ("federation.Signature", "signature"),
                              ("federation.Petition", "petition"), ("federation.CouncilDemand", "demand"),
                              ("federation.Congress", "congress"), ("federation.AgendaItem", "agenda_item"),
                              ("federation.Attendance", "attendance"), ("federation.Speaker", "speaker")):
            register_recorded(*recorded)
        from councils.assemblies.exit import Part, register_part

        # A moving council carries its affiliations, delegations and mandated ballots in its file and record; they
        # stay rows of the federation's server (the federation does not move with it).
        for order, label in enumerate(("federation.Affiliation", "federation.Delegate", "federation.FederationBallot")):
            register_part(Part(label, ("council",), 60 + order, live=False))
