from django import forms
from django.contrib.auth import get_user_model

from councils.assemblies.models import Council
from councils.decisions.models import Choice, ProposalKind

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self):
        super().__init__(attrs={"step": "1"}, format="%Y-%m-%dT%H:%M:%S")


class ProposalForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(k, label) for k, label in ProposalKind.choices if k != ProposalKind.ADMISSION], initial=ProposalKind.MOTION
    )
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), required=False, max_length=100_000,
                           label="Text", help_text="Markdown: *emphasis*, lists, links, tables.")
    deliberation_ends = forms.DateTimeField(widget=DateTimeLocal(), input_formats=DATETIME_FORMATS,
                                            label="Deliberation ends (voting opens)")
    voting_ends = forms.DateTimeField(widget=DateTimeLocal(), input_formats=DATETIME_FORMATS, label="Voting ends")
    subject_member = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False,
                                            label="Member to remove (removal only)", to_field_name="username")
    federation = forms.ModelChoiceField(queryset=Council.objects.none(), required=False,
                                        label="Federation (joining or leaving only)", to_field_name="slug")

    def __init__(self, *args, council=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_member"].queryset = get_user_model().objects.filter(
            memberships__council=council, memberships__left_at__isnull=True
        ).order_by("username")
        self.fields["federation"].queryset = Council.objects.filter(kind="federation").exclude(pk=council.pk)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000, label="Your comment")


class BallotForm(forms.Form):
    choice = forms.ChoiceField(choices=Choice.choices, widget=forms.RadioSelect, label="Your vote")
