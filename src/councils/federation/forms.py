from django import forms

from councils.assemblies.models import DecisionMethod
from councils.federation.models import Petition
from councils.federation.services import FEDERATION_METHODS


class FederationProposalForm(forms.Form):
    """A delegate puts a question to the federation; it goes down to every member council for its mandate."""

    kind = forms.ChoiceField(choices=[("federation_motion", "A decision within the federation's competences"),
                                      ("competences", "A change of the federation's competences")])
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, max_length=100_000, label="Text")
    matter = forms.ChoiceField(required=False, label="Matter (one of the federation's competences)")
    decision_method = forms.ChoiceField(choices=[(m, DecisionMethod(m).label) for m in FEDERATION_METHODS],
                                        label="How the federation decides")
    options = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Options (one per line)",
                              help_text="For ranked questions (instant-runoff, Schulze, ranked pairs).")
    competences = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  label="The new list of competences (one per line)", help_text="For a change of competences.")

    def __init__(self, *args, charter=None, **kwargs):
        super().__init__(*args, **kwargs)
        matters = list(charter.competences) if charter else []
        self.fields["matter"].choices = [("", "—")] + [(m, m) for m in matters]
        if charter and not self.is_bound:
            self.fields["competences"].initial = "\n".join(matters)

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]


class FreeVoteForm(forms.Form):
    choice = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No"), ("abstain", "Abstain")], required=False)


class PetitionForm(forms.Form):
    kind = forms.ChoiceField(choices=Petition.KINDS)
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=100_000, label="Text")
    target = forms.IntegerField(required=False, label="Decision to put to a referendum (its number)",
                                help_text="A referendum may ask whether one of the federation's decisions stands.")
    congress = forms.IntegerField(required=False, label="Congress to cancel (its number)")


class RecallForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, label="Why should the delegate be recalled?",
                             help_text="Shown to every member of the council with the petition, and kept in the public record.")
