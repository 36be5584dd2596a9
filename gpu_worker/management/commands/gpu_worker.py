"""``manage.py gpu_worker``: the swap worker (see gpu_worker/process.py for the process model)."""

from django.core.management.base import BaseCommand

from gpu_worker.process import DEFAULT_QUEUES, serve, supervise


class Command(BaseCommand):
    help = (
        "Run a worker: a light supervisor (sweeper of abandoned jobs, queue-position ticker) that keeps one "
        "job process alive; the job process builds the engine once and runs jobs with rq's SimpleWorker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queues", default=",".join(DEFAULT_QUEUES),
                            help="Comma-separated rq queues (default: swap; 'check' serves the photo checks).")
        parser.add_argument("--burst", action="store_true", help="Exit when the queues are empty.")
        parser.add_argument("--name", default=None, help="Worker name prefix (default: random).")
        parser.add_argument("--no-sweep", action="store_true", help="Do not run the abandoned-job sweeper.")
        parser.add_argument("--serve", action="store_true",
                            help="Internal: be the job process itself (started by the supervisor).")

    def handle(self, *args, **options):
        queues = tuple(q.strip() for q in options["queues"].split(",") if q.strip())
        if options["serve"]:
            code = serve(queues, name=options["name"], burst=options["burst"])
        else:
            code = supervise(queues, name=options["name"], burst=options["burst"], sweep=not options["no_sweep"])
        if code:
            raise SystemExit(code)
