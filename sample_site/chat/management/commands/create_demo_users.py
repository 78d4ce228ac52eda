from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERS = ("alice", "bob")
PASSWORD = "socketio"


class Command(BaseCommand):
    help = "Create the demo users alice and bob (password: socketio), if missing."

    def handle(self, *args, **options):
        User = get_user_model()
        for name in USERS:
            if not User.objects.filter(username=name).exists():
                User.objects.create_user(name, password=PASSWORD)
                self.stdout.write(f"created demo user {name} / {PASSWORD}")
