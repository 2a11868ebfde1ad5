from datetime import timedelta

from django import forms

from councils.assemblies.models import Admission, CouncilKind, DecisionMethod


class CouncilForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=CouncilKind.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=20_000)
    admission = forms.ChoiceField(choices=Admission.choices, initial=Admission.OPEN)
    decision_method = forms.ChoiceField(choices=DecisionMethod.choices, initial=DecisionMethod.MAJORITY, label="Default decision method")
    quorum_percent = forms.IntegerField(min_value=0, max_value=100, initial=25, label="Quorum (% of members who must take part)")
    deliberation_days = forms.FloatField(min_value=0, max_value=365, initial=3, label="Deliberation period (days)")
    voting_days = forms.FloatField(min_value=0.001, max_value=365, initial=4, label="Voting period (days)")

    def charter(self) -> dict:
        data = self.cleaned_data
        return {
            "admission": data["admission"],
            "decision_method": data["decision_method"],
            "quorum": data["quorum_percent"] / 100,
            "deliberation_period": timedelta(days=data["deliberation_days"]),
            "voting_period": timedelta(days=data["voting_days"]),
        }
