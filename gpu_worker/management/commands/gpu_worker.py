import logging

import django_rq
from django.conf import settings
from django.core.management.base import BaseCommand

from gpu_worker.engine import get_engine
from studio.queue import QUEUE_NAME


class Command(BaseCommand):
    help = "Run a swap worker on the django-rq queue 'swap'. Loads the engine once, then processes jobs."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Exit when the queue is empty.")
        parser.add_argument("--name", default=None, help="Worker name (defaults to host+pid).")

    def handle(self, *args, **options):
        logging.basicConfig(level=logging.INFO)
        engine = get_engine(settings.MODELS_DIR)  # once per process; forked work horses inherit it
        self.stdout.write(f"Engine ready: {type(engine).__name__} (models from {settings.MODELS_DIR} or bundled)")
        worker = django_rq.get_worker(QUEUE_NAME, name=options["name"])
        worker.work(burst=options["burst"], with_scheduler=False, logging_level="INFO")
