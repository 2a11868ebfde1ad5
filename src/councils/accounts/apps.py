from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.accounts"
    label = "accounts"

    def ready(self):
        from councils.record.services import register_recorded

        register_recorded("accounts.MemberKey", "key", "key_id")
