from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy

from councils.assemblies.models import Council, DecisionMethod, OfficeRole
from councils.decisions import kinds
from councils.decisions.models import ProposalKind

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self):
        super().__init__(attrs={"step": "1"}, format="%Y-%m-%dT%H:%M:%S")


def deadline_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(widget=DateTimeLocal(), input_formats=DATETIME_FORMATS, label=label)


class ProposalForm(forms.Form):
    kind = forms.ChoiceField(choices=[], initial=ProposalKind.MOTION, label=gettext_lazy("Kind"))
    title = forms.CharField(max_length=200, label=gettext_lazy("Title"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False, max_length=100_000,
                           label=gettext_lazy("Text"), help_text=gettext_lazy("Markdown: *emphasis*, lists, links, tables."))
    decision_method = forms.ChoiceField(label=gettext_lazy("How the council decides"))
    options = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label=gettext_lazy("Options (one per line)"),
                              help_text=gettext_lazy("For approval, score, ranked and STV votes; a yes/no motion needs none."))
    office = forms.ChoiceField(choices=[("", "—")] + list(OfficeRole.choices), required=False, label=gettext_lazy("Office"))
    candidates = forms.ModelMultipleChoiceField(queryset=get_user_model().objects.none(), required=False,
                                                to_field_name="username", label=gettext_lazy("Candidates"),
                                                widget=forms.CheckboxSelectMultiple)
    seats = forms.IntegerField(min_value=1, max_value=50, initial=1, label=gettext_lazy("Seats"),
                               help_text=gettext_lazy("One seat: instant-runoff. Several: single transferable vote (STV)."))
    max_score = forms.IntegerField(min_value=1, max_value=100, initial=5, label=gettext_lazy("Highest score"))
    secret = forms.BooleanField(required=False, label=gettext_lazy("Secret ballot"), help_text=gettext_lazy("Who voted is known; how, only by receipt."))
    deliberation_ends = deadline_field(gettext_lazy("Deliberation ends (voting opens)"))
    voting_ends = deadline_field(gettext_lazy("Voting ends"))
    subject_member = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False,
                                            label=gettext_lazy("Member to remove"), to_field_name="username")
    federation = forms.ModelChoiceField(queryset=Council.objects.none(), required=False,
                                        label=gettext_lazy("Federation"), to_field_name="slug")
    petition = forms.TypedChoiceField(coerce=int, empty_value=None, choices=[], required=False,
                                      label=gettext_lazy("Petition this council backs"))
    # A postponement: the proposal (of this council, in deliberation) and its new deadlines.
    postponement = forms.TypedChoiceField(coerce=int, empty_value=None, choices=[], required=False,
                                          label=gettext_lazy("Proposal to postpone"))
    postponement_deliberation_ends = forms.DateTimeField(
        widget=DateTimeLocal(), input_formats=DATETIME_FORMATS, required=False,
        label=gettext_lazy("Its deliberation ends (new)"), help_text=gettext_lazy("Never earlier than now set."))
    postponement_voting_ends = forms.DateTimeField(
        widget=DateTimeLocal(), input_formats=DATETIME_FORMATS, required=False,
        label=gettext_lazy("Its voting ends (new)"), help_text=gettext_lazy("Its vote never shorter than now set."))
    destination = forms.CharField(max_length=400, required=False, label=gettext_lazy("Address of the server the council moves to"),
                                  help_text=gettext_lazy("For a move: e.g. https://councils.example.org. The council leaves this "
                                                         "server with its whole record (docs/free-exit.md)."))
    draft = forms.BooleanField(required=False, label=gettext_lazy("Keep as a draft"), help_text=gettext_lazy("Only you see it until you publish it."))

    POSTPONEMENT_FIELDS = ("postponement", "postponement_deliberation_ends", "postponement_voting_ends")

    def __init__(self, *args, council=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.council = council
        members = get_user_model().objects.filter(memberships__council=council, memberships__left_at__isnull=True).order_by("username")
        self.fields["subject_member"].queryset = members
        self.fields["candidates"].queryset = members
        self.fields["federation"].queryset = Council.objects.filter(kind="federation").exclude(pk=council.pk)
        self.fields["kind"].choices = [(k.name, k.label) for k in kinds.proposable(council)]
        self.fields["petition"].choices = [("", "—")] + kinds.field_choices("petition", council)
        self.fields["postponement"].choices = [("", "—")] + postponable(council)
        charter = council.charter
        self.fields["decision_method"].choices = [
            (m.value, m.label) for m in DecisionMethod if m != DecisionMethod.FALLBACK and charter.allows(m.value)
        ]
        self.fields["decision_method"].initial = charter.decision_method
        if charter.secret_ballots:
            self.fields["secret"].initial = True
            self.fields["secret"].disabled = True
            self.fields["secret"].help_text = "The charter makes every vote secret."
        self._show_only_the_chosen_kinds_fields()

    # Fields every kind takes; the others are shown only for the kinds that take them (``kinds_taking``).
    COMMON = ("kind", "title", "body", "secret", "deliberation_ends", "voting_ends", "draft")

    def kinds_taking(self, name: str, kinds_here: list) -> list[str]:
        """The kinds (of this council's proposable ones) whose proposals take the field ``name``."""
        def takes(k) -> bool:
            if name in ("office", "subject_member", "federation", "petition"):
                return name in k.takes
            if name in self.POSTPONEMENT_FIELDS:
                return k.name == ProposalKind.POSTPONEMENT
            if name == "destination":
                return k.name == ProposalKind.MOVE
            if name == "candidates":
                return k.method == "election"
            if name == "seats":
                return (k.method == "election" and k.seats is None) or k.method is None
            if name in ("decision_method", "options", "max_score"):
                return k.method is None
            return True
        return [k.name for k in kinds_here if takes(k)]

    def _show_only_the_chosen_kinds_fields(self) -> None:
        """Each field not common to all kinds says which kinds take it (``data-kinds`` on the page, for the script
        that switches them as the kind changes); those the chosen kind does not take are hidden and disabled, so the
        page without JavaScript shows only the chosen kind's fields and nothing else is sent."""
        kinds_here = kinds.proposable(self.council)
        chosen = (self.data.get("kind") if self.is_bound else None) or self.initial.get("kind") or ProposalKind.MOTION
        self.chosen_kind = kinds.get(chosen, self.council) or (kinds_here[0] if kinds_here else None)
        self.kind_names = " ".join(k.name for k in kinds_here)
        for name, field in self.fields.items():
            if name in self.COMMON:
                continue
            taking = self.kinds_taking(name, kinds_here)
            field.kinds = " ".join(taking)
            if self.chosen_kind is None or self.chosen_kind.name not in taking:
                field.disabled = True
                field.hidden_now = True
        self.fields["kind"].widget = forms.HiddenInput()

    def is_election(self, kind: str) -> bool:
        kind_def = kinds.get(kind, self.council)
        return kind_def is not None and kind_def.method == "election"

    def postponement_payload(self) -> dict | None:
        """A postponement's proposal and new deadlines, as the service takes them (None for other kinds)."""
        data = self.cleaned_data
        if data.get("kind") != ProposalKind.POSTPONEMENT:
            return None
        return {"proposal": data.get("postponement"), "deliberation_ends": data.get("postponement_deliberation_ends"),
                "voting_ends": data.get("postponement_voting_ends")}

    def option_list(self) -> list:
        data = self.cleaned_data
        if self.is_election(data["kind"]):
            return [{"member": user.username} for user in data["candidates"]]
        return [line.strip() for line in (data["options"] or "").splitlines() if line.strip()]


def postponable(council) -> list[tuple[int, str]]:
    """This council's proposals a postponement may name: published, in deliberation, deadlines not fixed by rule."""
    from councils import clock
    from councils.decisions.models import Proposal

    now = clock.now()
    fixed = kinds.names(fixed_schedule=True) + [ProposalKind.POSTPONEMENT]
    found = (Proposal.objects.filter(council=council, published_at__isnull=False, withdrawn_at__isnull=True,
                                     accepted_at__isnull=True, deliberation_ends__gt=now)
             .exclude(kind__in=fixed).order_by("deliberation_ends", "pk"))
    return [(p.pk, f"{p.title} (#{p.pk})") for p in found[:200]]


class ScheduleForm(forms.Form):
    deliberation_ends = deadline_field(gettext_lazy("Deliberation ends (voting opens)"))
    voting_ends = deadline_field(gettext_lazy("Voting ends"))


class AmendmentForm(forms.Form):
    passage = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=100_000, label=gettext_lazy("Passage to replace"),
                              help_text=gettext_lazy("Copy it exactly from the text."))
    replacement = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=100_000, required=False,
                                  label=gettext_lazy("Replace it with"))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=20_000, required=False, label=gettext_lazy("Why"))


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000, label=gettext_lazy("Your comment"))


class HideForm(forms.Form):
    reason = forms.CharField(max_length=5000, label=gettext_lazy("Reason (shown to all)"))


class MinorityReportForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000, label=gettext_lazy("Minority report"))


class ReceiptForm(forms.Form):
    receipt = forms.CharField(max_length=40, label=gettext_lazy("Your receipt"))


class CharterChangeForm(forms.Form):
    """A change of the council's charter: the charter in force, to edit; only the fields changed are proposed."""

    title = forms.CharField(max_length=200, initial="Change of the charter", label=gettext_lazy("Title"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=100_000,
                           label=gettext_lazy("Why"), help_text=gettext_lazy("Markdown."))
    admission = forms.ChoiceField(choices=[("open", gettext_lazy("Open: anyone who asks joins at once")),
                                           ("vote", gettext_lazy("By vote: the members decide each request"))], label=gettext_lazy("Admission"))
    decision_method = forms.ChoiceField(choices=[], label=gettext_lazy("Default decision method"))
    quorum_percent = forms.DecimalField(min_value=0, max_value=100, decimal_places=1, label=gettext_lazy("Quorum (% of members)"))
    deliberation_days = forms.FloatField(min_value=0, max_value=365, label=gettext_lazy("Deliberation period (days)"))
    voting_days = forms.FloatField(min_value=0.001, max_value=365, label=gettext_lazy("Voting period (days)"))
    secret_ballots = forms.BooleanField(required=False, label=gettext_lazy("Every vote is secret"))
    officer_term_days = forms.FloatField(min_value=1, max_value=5 * 365, label=gettext_lazy("Officers' term (days)"))
    officer_term_limit = forms.IntegerField(min_value=1, max_value=50, label=gettext_lazy("Consecutive terms an officer may serve"))
    mandate = forms.ChoiceField(choices=[("bound", gettext_lazy("Bound mandate")), ("free", gettext_lazy("Free mandate"))], label=gettext_lazy("Our delegates' mandate"))
    recall_threshold_percent = forms.DecimalField(min_value=0.1, max_value=100, decimal_places=1,
                                                  label=gettext_lazy("Signatures that open a recall vote (% of members)"))
    charter_change_method = forms.ChoiceField(
        choices=[(m.value, m.label) for m in (DecisionMethod.MAJORITY, DecisionMethod.TWO_THIRDS,
                                               DecisionMethod.MAJORITY_OF_MEMBERS)],
        label=gettext_lazy("How the charter itself is changed"))

    def __init__(self, *args, council: Council, **kwargs):
        charter = council.charter
        kwargs.setdefault("initial", {}).update({
            "admission": charter.admission, "decision_method": charter.decision_method,
            "quorum_percent": charter.quorum * 100, "deliberation_days": charter.deliberation_period.total_seconds() / 86400,
            "voting_days": charter.voting_period.total_seconds() / 86400, "secret_ballots": charter.secret_ballots,
            "officer_term_days": charter.officer_term.total_seconds() / 86400,
            "officer_term_limit": charter.officer_term_limit, "mandate": charter.mandate,
            "recall_threshold_percent": charter.recall_threshold * 100,
            "charter_change_method": charter.charter_change_method,
        })
        super().__init__(*args, **kwargs)
        self.charter = charter
        self.fields["decision_method"].choices = [(m.value, m.label) for m in DecisionMethod if m != DecisionMethod.FALLBACK]

    def changes(self) -> dict:
        """The fields whose new value differs from the charter in force (periods in seconds, shares as decimals)."""
        from decimal import Decimal

        data, charter = self.cleaned_data, self.charter
        proposed = {
            "admission": data["admission"], "decision_method": data["decision_method"],
            "quorum": str((Decimal(data["quorum_percent"]) / 100).quantize(Decimal("0.001"))),
            "deliberation_period": round(data["deliberation_days"] * 86400),
            "voting_period": round(data["voting_days"] * 86400), "secret_ballots": data["secret_ballots"],
            "officer_term": round(data["officer_term_days"] * 86400), "officer_term_limit": data["officer_term_limit"],
            "mandate": data["mandate"],
            "recall_threshold": str((Decimal(data["recall_threshold_percent"]) / 100).quantize(Decimal("0.001"))),
            "charter_change_method": data["charter_change_method"],
        }
        current = {
            "admission": charter.admission, "decision_method": charter.decision_method, "quorum": str(charter.quorum),
            "deliberation_period": round(charter.deliberation_period.total_seconds()),
            "voting_period": round(charter.voting_period.total_seconds()), "secret_ballots": charter.secret_ballots,
            "officer_term": round(charter.officer_term.total_seconds()), "officer_term_limit": charter.officer_term_limit,
            "mandate": charter.mandate, "recall_threshold": str(charter.recall_threshold),
            "charter_change_method": charter.charter_change_method,
        }
        return {name: value for name, value in proposed.items() if value != current[name]}
