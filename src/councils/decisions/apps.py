from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.decisions"
    label = "decisions"

    def ready(self):
        from councils.assemblies import hooks
        from councils.decisions import builtin_kinds, services, views
        from councils.record.services import register_check, register_recorded

        builtin_kinds.register()
        hooks.register_settler(services.settle_due)
        hooks.register_admission_vote(services.open_admission_vote)
        hooks.member_leaving.connect(services.on_member_leaving, dispatch_uid="decisions.withdraw_open_ballots")
        hooks.register_page_part(views.council_page_part)
        for recorded in (("decisions.Proposal", "proposal"), ("decisions.Comment", "comment"),
                              ("decisions.Ballot", "ballot"), ("decisions.VoterRegister", "register"),
                              ("decisions.Decision", "decision"), ("decisions.MinorityReport", "minority_report"),
                              ("decisions.Report", "report")):
            register_recorded(*recorded)
        register_check(services.check_ballot_digests)
        from councils.decisions import exit_parts

        exit_parts.register()
