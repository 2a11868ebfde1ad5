from django.apps import AppConfig


class Config(AppConfig):
    name = "councils.record"
    label = "record"
    verbose_name = "public record"

    def ready(self):
        from councils.record.services import check_archives, check_contents, register_check

        register_check(check_contents)
        register_check(check_archives)
