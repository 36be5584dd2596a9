import logging

import django_rq
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from gpu_worker.sweeper import Sweeper, sweep_once
from gpu_worker.tasks import engine as engine_for_jobs
from studio.queue import QUEUE_NAME


class Command(BaseCommand):
    help = (
        "Run a swap worker on the django-rq queue 'swap'. Loads the engine once, recovers abandoned "
        "jobs at start and every few seconds, then processes jobs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Exit when the queue is empty.")
        parser.add_argument("--name", default=None, help="Worker name (defaults to host+pid).")
        parser.add_argument("--no-sweep", action="store_true", help="Do not run the abandoned-job sweeper.")

    def handle(self, *args, **options):
        logging.basicConfig(level=logging.INFO)
        engine = engine_for_jobs()  # once per process; forked work horses inherit it
        self.stdout.write(f"Engine ready: {type(engine).__name__} (models from {settings.MODELS_DIR} or bundled)")
        if not options["no_sweep"]:
            sweep_once()
            Sweeper().start()
        connections.close_all()  # never share a DB connection with forked work horses
        worker = django_rq.get_worker(QUEUE_NAME, name=options["name"])
        worker.work(burst=options["burst"], with_scheduler=False, logging_level="INFO")
