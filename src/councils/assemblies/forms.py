from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy

from councils.assemblies.models import Admission, CouncilKind, DecisionMethod


class CouncilForm(forms.Form):
    name = forms.CharField(max_length=120, label=gettext_lazy("Name"))
    kind = forms.ChoiceField(choices=CouncilKind.choices, label=gettext_lazy("Kind"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=20_000, label=gettext_lazy("Description"))
    admission = forms.ChoiceField(choices=Admission.choices, initial=Admission.OPEN, label=gettext_lazy("Admission"))
    decision_method = forms.ChoiceField(choices=DecisionMethod.choices, initial=DecisionMethod.MAJORITY, label=gettext_lazy("Default decision method"))
    quorum_percent = forms.IntegerField(min_value=0, max_value=100, initial=25, label=gettext_lazy("Quorum (% of members who must take part)"))
    deliberation_days = forms.FloatField(min_value=0, max_value=365, initial=3, label=gettext_lazy("Deliberation period (days)"))
    voting_days = forms.FloatField(min_value=0.001, max_value=365, initial=4, label=gettext_lazy("Voting period (days)"))
    min_deliberation_days = forms.FloatField(
        min_value=0, max_value=365, initial=2, required=False, label=gettext_lazy("Shortest deliberation anyone may set (days)"),
        help_text=gettext_lazy("No author or officer can open a vote with less deliberation; only the members' vote on the charter changes it."))
    min_voting_days = forms.FloatField(
        min_value=0, max_value=365, initial=1, required=False, label=gettext_lazy("Shortest vote anyone may set (days)"),
        help_text=gettext_lazy("No author or officer can make a vote shorter; only the members' vote on the charter changes it."))

    def charter(self) -> dict:
        data = self.cleaned_data
        return {
            "admission": data["admission"],
            "decision_method": data["decision_method"],
            "quorum": data["quorum_percent"] / 100,
            "deliberation_period": timedelta(days=data["deliberation_days"]),
            "voting_period": timedelta(days=data["voting_days"]),
            # left empty: the charter's defaults (two days, one day)
            **({"min_deliberation_period": timedelta(days=data["min_deliberation_days"])}
               if data.get("min_deliberation_days") is not None else {}),
            **({"min_voting_period": timedelta(days=data["min_voting_days"])} if data.get("min_voting_days") is not None else {}),
        }
