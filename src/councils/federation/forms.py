from django import forms
from django.utils.translation import gettext_lazy

from councils.assemblies.models import DecisionMethod
from councils.federation.models import Petition, Weighting
from councils.federation.services import FEDERATION_METHODS


class FederationProposalForm(forms.Form):
    """A delegate puts a question to the federation; it goes down to every member council for its mandate."""

    kind = forms.ChoiceField(choices=[("federation_motion", gettext_lazy("A decision within the federation's competences")),
                                      ("competences", gettext_lazy("A change of the federation's competences")),
                                      ("federation_charter", gettext_lazy("A change of the federation's charter (weighting, seats, terms, shares)"))], label=gettext_lazy("Kind"))
    title = forms.CharField(max_length=200, label=gettext_lazy("Title"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, max_length=100_000, label=gettext_lazy("Text"))
    matter = forms.ChoiceField(required=False, label=gettext_lazy("Matter (one of the federation's competences)"))
    decision_method = forms.ChoiceField(choices=[(m, DecisionMethod(m).label) for m in FEDERATION_METHODS],
                                        label=gettext_lazy("How the federation decides"))
    options = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=gettext_lazy("Options (one per line)"),
                              help_text=gettext_lazy("For ranked questions (instant-runoff, Schulze, ranked pairs)."))
    competences = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  label=gettext_lazy("The new list of competences (one per line)"), help_text=gettext_lazy("For a change of competences."))

    # A change of the federation's charter: the charter in force, to edit; only the fields changed are proposed.
    weighting = forms.ChoiceField(choices=Weighting.choices, required=False, label=gettext_lazy("Charter: how member councils weigh"))
    mandate_split = forms.BooleanField(required=False, label=gettext_lazy("Charter: split a council's weight by its members' votes"))
    delegate_seats = forms.IntegerField(min_value=1, max_value=50, required=False, label=gettext_lazy("Charter: delegates per council"))
    delegate_term_days = forms.FloatField(min_value=0.001, max_value=5 * 365, required=False, label=gettext_lazy("Charter: delegates' term (days)"))
    delegate_term_limit = forms.IntegerField(min_value=1, max_value=50, required=False,
                                             label=gettext_lazy("Charter: consecutive terms a delegate may serve"))
    mandate_period_days = forms.FloatField(min_value=0.001, max_value=5 * 365, required=False,
                                           label=gettext_lazy("Charter: time for the councils' mandates (days)"))
    convocation_share_percent = forms.DecimalField(min_value=0.1, max_value=100, decimal_places=1, required=False,
                                                   label=gettext_lazy("Charter: councils that convene a congress (%)"))
    referendum_council_share_percent = forms.DecimalField(min_value=0.1, max_value=100, decimal_places=1, required=False,
                                                          label=gettext_lazy("Charter: councils that call a referendum (%)"))
    referendum_member_share_percent = forms.DecimalField(min_value=0.1, max_value=100, decimal_places=1, required=False,
                                                         label=gettext_lazy("Charter: members whose signatures call a referendum (%)"))

    def __init__(self, *args, charter=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.charter = charter
        if charter is not None:
            for name, value in self._charter_values(charter).items():
                self.fields[name].initial = value
        matters = list(charter.competences) if charter else []
        self.fields["matter"].choices = [("", "—")] + [(m, m) for m in matters]
        if charter and not self.is_bound:
            self.fields["competences"].initial = "\n".join(matters)

    @staticmethod
    def _charter_values(charter) -> dict:
        return {
            "weighting": charter.weighting, "mandate_split": charter.mandate_split, "delegate_seats": charter.delegate_seats,
            "delegate_term_days": charter.delegate_term.total_seconds() / 86400,
            "delegate_term_limit": charter.delegate_term_limit,
            "mandate_period_days": charter.mandate_period.total_seconds() / 86400,
            "convocation_share_percent": charter.convocation_share * 100,
            "referendum_council_share_percent": charter.referendum_council_share * 100,
            "referendum_member_share_percent": charter.referendum_member_share * 100,
        }

    def charter_changes(self) -> dict:
        """The federation charter's fields whose new value differs from the charter in force, as the service takes them."""
        from decimal import Decimal

        data, changes = self.cleaned_data, {}
        current = self._charter_values(self.charter)
        for name, value in current.items():
            new = data.get(name)
            if new in (None, "") or (name != "mandate_split" and new == value) or (name == "mandate_split" and new == value):
                continue
            if name.endswith("_days"):
                changes[name[:-5]] = round(new * 86400)
            elif name.endswith("_percent"):
                changes[name[:-8]] = str((Decimal(new) / 100).quantize(Decimal("0.001")))
            else:
                changes[name] = new
        return changes

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]


class FreeVoteForm(forms.Form):
    choice = forms.ChoiceField(choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No")), ("abstain", gettext_lazy("Abstain"))], required=False, label=gettext_lazy("Choice"))


class PetitionForm(forms.Form):
    kind = forms.ChoiceField(choices=Petition.KINDS, label=gettext_lazy("Kind"))
    title = forms.CharField(max_length=200, label=gettext_lazy("Title"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=100_000, label=gettext_lazy("Text"))
    target = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label=gettext_lazy("Decision to put to a referendum"),
                                    help_text=gettext_lazy("A referendum asks the members whether one of the federation's decisions stands."))
    congress = forms.IntegerField(required=False, label=gettext_lazy("Congress to cancel (its number)"))

    def __init__(self, *args, federation=None, **kwargs):
        super().__init__(*args, **kwargs)
        from councils.federation.petitions import referendum_targets

        targets = referendum_targets(federation) if federation is not None else []
        self.fields["target"].choices = [("", "—")] + [
            (d.proposal_id, f"{d.proposal.title} ({d.get_outcome_display().lower()} {d.decided_at:%Y-%m-%d})") for d in targets]

class RecallForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, label=gettext_lazy("Why should the delegate be recalled?"),
                             help_text=gettext_lazy("Shown to every member of the council with the petition, and kept in the public record."))
