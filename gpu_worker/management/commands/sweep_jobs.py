import time

from django.conf import settings
from django.core.management.base import BaseCommand

from gpu_worker.sweeper import sweep_once


class Command(BaseCommand):
    help = "Requeue abandoned running jobs and re-enqueue queued jobs Redis lost (once, or --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep sweeping every JOB_SWEEP_INTERVAL_SECONDS.")

    def handle(self, *args, **options):
        while True:
            counts = sweep_once()
            self.stdout.write(f"swept: {counts}")
            if not options["loop"]:
                return
            time.sleep(settings.JOB_SWEEP_INTERVAL_SECONDS)
