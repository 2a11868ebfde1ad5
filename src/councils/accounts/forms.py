from django import forms
from django.utils.translation import gettext_lazy


class SignUpForm(forms.Form):
    username = forms.CharField(max_length=150, label=gettext_lazy("User name"), help_text=gettext_lazy("Letters, digits and @/./+/-/_ only."))
    email = forms.EmailField(required=False, label=gettext_lazy("Email (optional)"),
                             help_text=gettext_lazy("For notifications and to reset a forgotten password. We send a link to confirm it."))
    password = forms.CharField(widget=forms.PasswordInput, label=gettext_lazy("Password"), help_text=gettext_lazy("At least 10 characters."))
    password_again = forms.CharField(widget=forms.PasswordInput, label=gettext_lazy("Password again"))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, label=gettext_lazy("Token name"), help_text=gettext_lazy("What will use it, e.g. 'phone' or 'vote script'."))


class EmailForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email address"), help_text=gettext_lazy("We send a link to it; it becomes your address when you follow the link."))
