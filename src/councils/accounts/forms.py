from django import forms


class SignUpForm(forms.Form):
    username = forms.CharField(max_length=150, label="User name", help_text="Letters, digits and @/./+/-/_ only.")
    email = forms.EmailField(required=False, label="Email (optional)",
                             help_text="For notifications and to reset a forgotten password. We send a link to confirm it.")
    password = forms.CharField(widget=forms.PasswordInput, label="Password", help_text="At least 10 characters.")
    password_again = forms.CharField(widget=forms.PasswordInput, label="Password again")

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, label="Token name", help_text="What will use it, e.g. 'phone' or 'vote script'.")


class EmailForm(forms.Form):
    email = forms.EmailField(label="Email address", help_text="We send a link to it; it becomes your address when you follow the link.")
